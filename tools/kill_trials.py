"""Kill trials: a first run killed at a random moment leaves a folder that resumes exactly, or nothing of value.

    python tools/kill_trials.py --trials 20              # writes docs/results/kill_trials.md
    python tools/kill_trials.py --trials 3 --out /tmp/k  # a quick look, written nowhere else

Each trial is a first run on a dataset new to it: an MNIST-format set in the real file format (fake images) in a
fresh data folder, so the run decodes it into its cache and trains its FID classifier before it trains. The
trial picks a phase (start-up and dataset conversion, the classifier's training, training, the end-of-run
work), waits for the log line that starts it, then a random time within the phase's length in an uninterrupted
reference run (at least 0.5 s after the start), sends SIGKILL, SIGTERM or SIGINT, and checks what is left (a run
that ended before the signal is not counted; another trial replaces it):
- a run folder with a checkpoint: `resume=<folder>` finishes the run, and its metrics.csv loss columns equal
  the reference's (bit-identical);
- anything else holds nothing of value: `resume=true` refuses it in one line, and a fresh run completes with
  the reference's losses;
- either way the caches: the next run neither trusts a half-written one nor rebuilds a complete one (its log
  converts the dataset, or trains the classifier, only where the killed run had not finished that file), and
  no temp file is left anywhere once it completes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))
import fake_data  # noqa: E402
from results import doc_parser, write  # noqa: E402

from gensweep.api import completed, read_csv  # noqa: E402

N_EPOCHS = 3
ARGS = [
    "model=vae",
    "dataset=mnist",
    "dataset.download=false",
    f"n_epochs={N_EPOCHS}",
    "batch_size=64",
    "metrics.n_samples=200",
    "metrics.classifier_steps=300",
    "metrics.probe.steps=0",
    "trainer.progress=false",
]
LOSSES = ("epoch", "step", "train_loss", "val_loss", "train_recon", "val_kl")
# Each phase of a first run and the log line that starts it (None: the process's start), in order; a phase
# ends where the next starts, the last one when the process exits.
PHASES = {
    "start-up and dataset conversion": None,
    "classifier training": "converted ",
    "training": "trained the FID classifier once",
    "end-of-run work": f"] epoch {N_EPOCHS}/{N_EPOCHS}",
}
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
ENDED = "(none: the run had ended)"


def start(cwd: Path, data: Path, extra: list[str]) -> subprocess.Popen:
    env = {**os.environ, "GENSWEEP_DATA": str(data), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gensweep", *ARGS, f"dataset.root={data}", *extra],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def new_dataset(template: Path, where: Path) -> Path:
    """A data folder holding only the set's raw files (the same images every trial): no cache, no classifier."""
    shutil.copytree(template, where)
    return where


def output(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=600)
    return out + err


def reference(tmp: Path) -> tuple[list[tuple[str, ...]], dict[str, float]]:
    """The uninterrupted run's loss rows, and how long (seconds) each of its phases took."""
    cwd = tmp / "reference"
    cwd.mkdir()
    began = time.monotonic()
    proc = start(cwd, new_dataset(tmp / "template", tmp / "reference-data"), [])
    starts: dict[str, float] = {}
    lines: list[str] = []
    for line in proc.stdout:  # the log's lines as the run prints them
        lines.append(line)
        for phase, marker in PHASES.items():
            if phase not in starts and (marker is None or marker in line):
                starts[phase] = 0.0 if marker is None else time.monotonic() - began
    proc.wait(timeout=600)
    ended = time.monotonic() - began
    if proc.returncode != 0 or len(starts) != len(PHASES):
        raise SystemExit(f"the reference run failed or its log lacks a phase: {''.join(lines)[-2000:]}")
    (run,) = (cwd / "outputs" / "runs").glob("*/*")
    bounds = [*starts.values(), ended]
    return losses(run), {phase: bounds[i + 1] - bounds[i] for i, phase in enumerate(PHASES)}


def losses(run: Path) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in LOSSES) for r in read_csv(run / "metrics.csv")]


def trial(n: int, tmp: Path, rows: list[tuple[str, ...]], took: dict[str, float], rng: random.Random) -> dict:
    """One first run, signalled a random time into a random phase (found by its own log line), and its checks."""
    cwd, data = tmp / f"trial{n}", new_dataset(tmp / "template", tmp / f"trial{n}-data")
    cwd.mkdir()
    phase = rng.choice(list(PHASES))
    marker = PHASES[phase]
    delay = rng.uniform(0.5, took[phase]) if marker is None else rng.uniform(0, took[phase])
    signum = rng.choice(SIGNALS)
    proc = start(cwd, data, [])
    seen = []
    if marker is not None:  # read the log up to the line that starts the phase
        for line in proc.stdout:
            seen.append(line)
            if marker in line:
                break
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signum)
    first = "".join(seen) + output(proc)
    caches = {
        "dataset": any(data.glob("gensweep-cache/mnist-*.pt")),
        "classifier": any(data.glob("gensweep-cache/*classifier*.pt")),
    }
    runs = list((cwd / "outputs" / "runs").glob("*/*"))
    checkpointed = [r for r in runs if (r / "checkpoint.pt").is_file()]
    problems = []
    finished = [r for r in runs if completed(r, N_EPOCHS)]
    if proc.returncode == 0 or finished:  # killed after its summary said completed: nothing left to continue
        left = "a completed run"
        nxt = None
        if len(finished) != 1 or losses(finished[0]) != rows:
            problems.append("the run that ended is not the complete uninterrupted run")
    elif checkpointed:
        (run,) = checkpointed
        left = "a run folder with a checkpoint"
        nxt = start(cwd, data, [f"resume={run}"])
    else:
        left = "a run folder without a checkpoint" if runs else "no run folder"
        refused = start(cwd, data, ["resume=true"])
        said = output(refused)
        if refused.returncode != 2 or said.count("gensweep: error:") != 1:
            problems.append(f"resume=true did not refuse in one line: {said[-300:]}")
        nxt = start(cwd, data, [])
    log = "" if nxt is None else output(nxt)
    if nxt is not None and nxt.returncode != 0:
        problems.append(f"the next run failed: {log[-500:]}")
    elif nxt is not None:
        done = [r for r in (cwd / "outputs" / "runs").glob("*/*") if (r / "summary.json").is_file()]
        final = max(done, key=lambda r: len(read_csv(r / "metrics.csv")))
        if losses(final) != rows:
            problems.append("its losses differ from the uninterrupted run's")
    if caches["dataset"] and "converted " in log:
        problems.append("it converted a dataset whose cache was complete")
    if caches["classifier"] and "trained the FID classifier once" in log:
        problems.append("it retrained a classifier that was complete")
    stale = [str(p) for p in tmp.rglob("*.tmp") if p.is_relative_to(cwd) or p.is_relative_to(data)]
    if stale:
        problems.append(f"temp files left: {stale}")
    return {
        "trial": n,
        "signal": signal.Signals(signum).name if killed else ENDED,
        "phase": phase,
        "into_phase_s": round(delay, 2),
        "caches_complete": ", ".join(k for k, v in caches.items() if v) or "none",
        "left": left,
        "last_line": first.strip().splitlines()[-1][:80] if first.strip() else "",
        "result": "; ".join(problems) or "ok",
    }


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep the trials' folders here (default: removed)")
    parser.add_argument("--write", default="kill_trials", help="docs/results/<name>.md ('' writes nothing)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="gensweep-kills-")) if args.out is None else args.out
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        fake_data.mnist(tmp / "template", n_train=6000, n_test=1000)
        rows, took = reference(tmp)
        print("reference phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in took.items()), flush=True)
        results, n = [], 0
        while len(results) < args.trials and n < 3 * args.trials:
            n += 1
            result = trial(n, tmp, rows, took, rng)
            print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)
            if result["signal"] != ENDED:  # a run that ended before its signal is no kill trial
                results.append(result)
    finally:
        if args.out is None:
            shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(r["result"] == "ok" for r in results)
    head = list(results[0])
    body = (
        f"{passed} of {len(results)} trials pass. Each is a first run (`python -m gensweep {' '.join(ARGS)}` on a "
        "new 6,000-image MNIST-format set), signalled a random time into a random phase, found by the line its log "
        "starts it with, within the phase's length in an uninterrupted run "
        f"({', '.join(f'{k}: {v:.1f} s' for k, v in took.items())}), then resumed or started again.\n\n"
        + "| "
        + " | ".join(head)
        + " |\n|"
        + "---|" * len(head)
        + "\n"
        + "\n".join("| " + " | ".join(str(r[k]).replace("|", "/") for k in head) + " |" for r in results)
    )
    print(f"\n{body}")
    if args.write:
        print(f"written: {write(args.write, body)}", file=sys.stderr)
    if passed != len(results):
        sys.exit(1)


if __name__ == "__main__":
    main()
