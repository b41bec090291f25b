"""Wall time of 4-run sweeps on Hydra's basic launcher (one job after another) and on hydra/launcher=joblib.

    python benchmarks/bench_launchers.py                    # two digits sweeps, 25 epochs per run
    python benchmarks/bench_launchers.py n_epochs=5         # any extra override applies to every sweep
    GENSWEEP_JOBS=4 python benchmarks/bench_launchers.py device=cuda

Two sweeps: one model at four z_dim values (runs of about equal length, like the studies' sweeps), and four
models (VAE, GAN, WGAN, CAE: runs of unequal length). Each runs the command a user would
(`python -m gensweep ... -m`) in a fresh folder with the FID classifier already cached (an untimed first run
trains it), so neither launcher pays that one-off cost.

`--write NAME` also writes the table to docs/results/NAME.md (tools/results.py: one header line with the machine,
the date and this command), e.g. `python benchmarks/bench_launchers.py --write launchers`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# docs/results/<name>.md under a header line naming the machine, the date and the command
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from results import doc_parser, write  # noqa: E402

SWEEPS = {
    "vae, z_dim=8,16,32,64": ["model=vae", "z_dim=8,16,32,64"],
    "vae, gan, wgan, cae": ["model=vae,gan,wgan,cae"],
}
COMMON = ["n_epochs=25", "trainer.progress=false"]


def sweep(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "gensweep", *args, "-m"], cwd=cwd, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"sweep failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def results_table(rows: list[str], common: list[str], jobs: int) -> str:
    """The caption and the Markdown table of the two sweeps' wall times."""
    return (
        f"4-run sweeps ({' '.join(common)}), wall seconds; {os.cpu_count()} CPUs\n\n"
        f"| sweep | basic (one at a time) | joblib ({jobs} at a time) | speed-up |\n|---|---|---|---|\n"
        + "\n".join(rows)
    )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--write", metavar="NAME", default=None, help="also write the table to docs/results/NAME.md")
    parser.add_argument("overrides", nargs="*", help="gensweep keys for every sweep, e.g. n_epochs=5")
    args = parser.parse_args()
    extra = args.overrides
    given = {a.split("=", 1)[0] for a in extra}
    common = [a for a in COMMON if a.split("=", 1)[0] not in given] + extra  # n_epochs=5 replaces n_epochs=25
    jobs = int(os.environ.get("GENSWEEP_JOBS", "2"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="gensweep-launchers-") as tmp:
        cwd = Path(tmp)
        env = {**os.environ, "GENSWEEP_DATA": str(cwd / "data")}
        sweep(
            ["model=vae", "n_epochs=1", "trainer.progress=false", *extra, f"hydra.sweep.dir={cwd / 'warm'}"], cwd, env
        )
        for i, (name, values) in enumerate(SWEEPS.items()):
            args = [*values, *common]
            basic = sweep([*args, f"hydra.sweep.dir={cwd / f'basic{i}'}"], cwd, env)
            joblib = sweep([*args, "hydra/launcher=joblib", f"hydra.sweep.dir={cwd / f'joblib{i}'}"], cwd, env)
            rows.append(f"| {name} | {basic:.1f} | {joblib:.1f} | {basic / joblib:.2f}x |")
    table = results_table(rows, common, jobs)
    print(table)
    if args.write:
        print(f"written: {write(args.write, table)}", file=sys.stderr)


if __name__ == "__main__":
    main()
