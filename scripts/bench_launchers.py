"""Wall time of one 4-run sweep on Hydra's basic launcher (one job after another) and on hydra/launcher=joblib.

    python scripts/bench_launchers.py                      # 4 digits runs (VAE, GAN, WGAN, CAE), 5 epochs each
    python scripts/bench_launchers.py n_epochs=20 device=cuda

Both sweeps run the same command as a user would (`python -m gensweep ... -m`) in a fresh folder with the FID
classifier already cached (a first untimed run trains it), so neither pays that one-off cost.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = ["model=vae,gan,wgan,cae", "n_epochs=5", "trainer.progress=false"]


def sweep(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gensweep", *args, "-m"], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"sweep failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    extra = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="gensweep-launchers-") as tmp:
        cwd = Path(tmp)
        env = {**os.environ, "GENSWEEP_DATA": str(cwd / "data")}
        sweep(["model=vae", "n_epochs=1", "trainer.progress=false", *extra, f"hydra.sweep.dir={cwd / 'warm'}"], cwd, env)
        basic = sweep([*SWEEP, *extra, f"hydra.sweep.dir={cwd / 'basic'}"], cwd, env)
        jobs = int(env.get("GENSWEEP_JOBS", "2"))
        joblib = sweep([*SWEEP, *extra, "hydra/launcher=joblib", f"hydra.sweep.dir={cwd / 'joblib'}"], cwd, env)
    print(f"| launcher | 4-run sweep wall (s) |\n|---|---|\n| basic (one at a time) | {basic:.1f} |\n"
          f"| joblib ({jobs} at a time) | {joblib:.1f} |\n\n{os.cpu_count()} CPUs; speed-up {basic / joblib:.2f}x")


if __name__ == "__main__":
    main()
