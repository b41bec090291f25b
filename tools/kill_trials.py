"""Kill trials: a first run killed at a random moment leaves a folder that resumes exactly, or nothing of value.

    python tools/kill_trials.py --trials 20              # writes docs/results/kill_trials.md
    python tools/kill_trials.py --trials 3 --out /tmp/k  # a quick look, written nowhere else

Each trial is a first run on a dataset new to it: an MNIST-format set in the real file format (fake images) in a
fresh data folder, so the run decodes it into its cache and trains its FID classifier before it trains. The
trial picks a phase of an uninterrupted reference run (start-up and dataset conversion, the classifier's
training, training, the end-of-run work) and a random moment in it (at least 0.5 s after the start), sends
SIGKILL, SIGTERM or SIGINT then, and checks what is left:
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

from gensweep.api import read_csv  # noqa: E402

ARGS = [
    "model=vae",
    "dataset=mnist",
    "dataset.download=false",
    "n_epochs=3",
    "batch_size=64",
    "metrics.n_samples=200",
    "metrics.classifier_steps=300",
    "metrics.probe.steps=0",
    "trainer.progress=false",
]
LOSSES = ("epoch", "step", "train_loss", "val_loss", "train_recon", "val_kl")
# Log lines that end a phase, in order.
MARKERS = {
    "start-up and dataset conversion": "converted ",
    "classifier training": "trained the FID classifier once",
    "training": "] epoch 3/3",
    "end-of-run work": "results in ",
}
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)


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


def new_dataset(where: Path) -> Path:
    fake_data.mnist(where, n_train=6000, n_test=1000)
    return where


def output(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=600)
    return out + err


def reference(tmp: Path) -> tuple[list[tuple[str, ...]], dict[str, float]]:
    """The uninterrupted run's loss rows, and when (seconds after its start) each phase ended."""
    cwd = tmp / "reference"
    cwd.mkdir()
    began = time.monotonic()
    proc = start(cwd, new_dataset(tmp / "reference-data"), [])
    ends: dict[str, float] = {}
    lines: list[str] = []
    for line in proc.stdout:  # the log's lines as the run prints them
        lines.append(line)
        for phase, marker in MARKERS.items():
            if marker in line and phase not in ends:
                ends[phase] = time.monotonic() - began
    proc.wait(timeout=600)
    if proc.returncode != 0 or len(ends) != len(MARKERS):
        raise SystemExit(f"the reference run failed or its log lacks a phase: {''.join(lines)[-2000:]}")
    (run,) = (cwd / "outputs" / "runs").glob("*/*")
    return losses(run), ends


def losses(run: Path) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in LOSSES) for r in read_csv(run / "metrics.csv")]


def trial(n: int, tmp: Path, rows: list[tuple[str, ...]], ends: dict[str, float], rng: random.Random) -> dict:
    cwd, data = tmp / f"trial{n}", new_dataset(tmp / f"trial{n}-data")
    cwd.mkdir()
    phase = rng.choice(list(MARKERS))
    names = list(MARKERS)
    begin = 0.5 if names.index(phase) == 0 else ends[names[names.index(phase) - 1]]
    moment = rng.uniform(max(begin, 0.5), ends[phase])
    signum = rng.choice(SIGNALS)
    began = time.monotonic()
    proc = start(cwd, data, [])
    while time.monotonic() - began < moment and proc.poll() is None:
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signum)
    first = output(proc)
    caches = {
        "dataset": any(data.glob("gensweep-cache/mnist-*.pt")),
        "classifier": any(data.glob("gensweep-cache/*classifier*.pt")),
    }
    runs = list((cwd / "outputs" / "runs").glob("*/*"))
    checkpointed = [r for r in runs if (r / "checkpoint.pt").is_file()]
    problems = []
    if checkpointed:
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
    log = output(nxt)
    if nxt.returncode != 0:
        problems.append(f"the next run failed: {log[-500:]}")
    else:
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
        "signal": signal.Signals(signum).name if killed else "(none: the run had ended)",
        "phase": phase,
        "moment_s": round(moment, 2),
        "caches_complete": ", ".join(k for k, v in caches.items() if v) or "none",
        "left": left,
        "first_line": first.strip().splitlines()[-1][:80] if first.strip() else "",
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
        rows, ends = reference(tmp)
        print("reference phases end at " + ", ".join(f"{k} {v:.1f}s" for k, v in ends.items()), flush=True)
        results = []
        for n in range(1, args.trials + 1):
            results.append(trial(n, tmp, rows, ends, rng))
            print(" ".join(f"{k}={v}" for k, v in results[-1].items()), flush=True)
    finally:
        if args.out is None:
            shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(r["result"] == "ok" for r in results)
    head = list(results[0])
    body = (
        f"{passed} of {len(results)} trials pass. Each is a first run (`python -m gensweep {' '.join(ARGS)}` on a "
        "new 6,000-image MNIST-format set), killed at a random moment of a phase whose end the reference run gave "
        f"({', '.join(f'{k}: {v:.1f} s' for k, v in ends.items())}), then resumed or started again.\n\n"
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
