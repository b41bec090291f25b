"""Time from command to first training step, measured from outside the process.

    python benchmarks/startup.py                 # CPU
    python benchmarks/startup.py device=cuda     # any gensweep overrides apply to every run

Each case starts the real `python -m gensweep ...` command, reads its output until the trainer logs its first
training step, and stops it there (SIGTERM: the run saves a checkpoint and exits). Cases, in order, in a
fresh data folder:

  default, first time   the default command (digits, VAE): data prepared, FID classifier trained and cached
  default               the same again: everything cached
  mnist, first time     MNIST from the raw idx files (random images in the real format): converted and cached,
                        FID classifier trained
  mnist                 MNIST again: the cached tensors and classifier

The first-time figures are one-off costs; the others are what every later run and every sweep job pays.
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

MARK = "first training step"


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


def main() -> None:
    overrides = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="gensweep-startup-") as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "GENSWEEP_DATA": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
        fake.mnist(tmp_path / "data", n_train=60000, n_test=10000)
        cases = [
            ("default, first time", []),
            ("default", []),
            ("mnist, first time", ["dataset=mnist", "dataset.download=false"]),
            ("mnist", ["dataset=mnist", "dataset.download=false"]),
        ]
        print("| case | command to first step (s) | reported by the run (s) |\n|---|---|---|")
        for i, (name, args) in enumerate(cases):
            outside, inside = time_to_first_step(
                [*args, *overrides, "trainer.progress=false", f"hydra.run.dir={tmp_path / f'run{i}'}"], env, tmp_path
            )
            print(f"| {name} | {outside:.2f} | {inside:.2f} |", flush=True)


if __name__ == "__main__":
    main()
