"""Time from command to first training step, measured from outside the process.

    python benchmarks/startup.py                 # CPU
    python benchmarks/startup.py device=cuda     # any gensweep overrides apply to every run

Each case starts the real `python -m gensweep ...` command, reads its output until the trainer logs its first
training step, and stops it there (SIGTERM: the run saves a checkpoint and exits). Cases, in order, in a
fresh data folder:

  default command, first time   digits (the default command's VAE): data prepared, FID classifier trained and
                                cached
  default command, cached       the same again: everything cached
  MNIST, first time             MNIST from the raw idx files (random images in the real format): converted and
                                cached, FID classifier trained
  MNIST, cached                 MNIST again: the cached tensors and classifier

The first-time figures are one-off costs; the others are what every later run and every sweep job pays.

`--write NAME` also writes the table to docs/results/NAME.md (tools/results.py: one header line with the machine,
the date and this command), e.g. `python benchmarks/startup.py --write startup`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the made-up datasets in the real file formats, shared with the tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import fake_data as fake  # noqa: E402

# docs/results/<name>.md under a header line naming the machine, the date and the command
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from results import doc_parser, write  # noqa: E402

MARK = "first training step"
CASES = [
    ("default command, first time (digits converted, FID classifier trained and cached)", []),
    ("default command, cached", []),
    (
        "MNIST, first time (60,000 + 10,000 images converted from the idx files, classifier trained)",
        ["dataset=mnist", "dataset.download=false"],
    ),
    ("MNIST, cached", ["dataset=mnist", "dataset.download=false"]),
]
HEAD = "| case | command to first step (s) | reported by the run (s) |\n|---|---|---|"


def time_to_first_step(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(seconds from launch until the first-step line, seconds the run itself reports)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gensweep", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if MARK in line:
            outside = time.perf_counter() - start
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=300)
            inside = float(line.split(MARK, 1)[1].split("s", 1)[0])
            return outside, inside
    proc.wait()
    raise SystemExit(f"the run ended (exit {proc.returncode}) before a training step:\n{''.join(lines[-20:])}")


def results_table(rows: list[tuple[str, float, float]]) -> str:
    """The Markdown table of (case, seconds from the command, seconds the run reports)."""
    return "\n".join([HEAD, *(f"| {name} | {outside:.2f} | {inside:.2f} |" for name, outside, inside in rows)])


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--write", metavar="NAME", default=None, help="also write the table to docs/results/NAME.md")
    parser.add_argument("overrides", nargs="*", help="gensweep keys for every run, e.g. device=cuda")
    args = parser.parse_args()
    overrides = args.overrides
    rows = []
    with tempfile.TemporaryDirectory(prefix="gensweep-startup-") as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "GENSWEEP_DATA": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
        fake.mnist(tmp_path / "data", n_train=60000, n_test=10000)
        print(HEAD)
        for i, (name, case) in enumerate(CASES):
            outside, inside = time_to_first_step(
                [*case, *overrides, "trainer.progress=false", f"hydra.run.dir={tmp_path / f'run{i}'}"], env, tmp_path
            )
            rows.append((name, outside, inside))
            print(results_table(rows[-1:]).splitlines()[-1], flush=True)
    if args.write:
        print(f"written: {write(args.write, results_table(rows))}", file=sys.stderr)


if __name__ == "__main__":
    main()
