"""What a run and a study write to disk.

    python tools/disk_use.py                       # the default run (python -m gensweep)
    python tools/disk_use.py model=dcgan width=128 # another run's settings

The run is trained and its folder measured by part once it completes, beside the estimate the run made before
it started (the space it checks for). Each study's sweep is too long to run for a figure: its table adds up the
same estimate over every job of the sweep, each job's model built at its dataset's real image size. Writes
docs/results/disk_use.md (the header names machine, date and command).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import doc_parser, write  # noqa: E402

from gensweep.api import compose_config, run_bytes, size_text, sweep_jobs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARTS = {
    "checkpoint": ["checkpoint.pt"],
    "sample grids": ["samples"],
    "final images": ["curves.png", "interpolation.png", "interpolation.gif", "reconstructions.png"],
    "logs and records": ["metrics.csv", "summary.json", "gensweep.log", ".hydra"],
}


def size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.is_file() else 0


def estimate(overrides: list[str]) -> dict[str, int]:
    """The parts a run of these settings checks for before it starts."""
    return run_bytes(compose_config([*overrides, "device=cpu"]), resume=False)


def studies_table() -> str:
    rows = []
    for study in sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml")):
        runs = [sum(estimate([f"experiment={study}", *job]).values()) for job in sweep_jobs(study)]
        rows.append(f"| {study} | {len(runs)} | {size_text(sum(runs))} | {size_text(max(runs))} |")
    return "\n".join(["| study | runs | at most, whole sweep | largest run |", "|---|---|---|---|", *rows])


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--write", default="disk_use", help="docs/results/<name>.md ('' writes nothing)")
    parser.add_argument("overrides", nargs="*", help="gensweep keys, e.g. model=dcgan")
    args = parser.parse_args()
    cfg = compose_config(args.overrides)
    with tempfile.TemporaryDirectory(prefix="gensweep-disk-") as tmp:
        run = Path(tmp) / "run"
        command = [sys.executable, "-m", "gensweep", *args.overrides, f"hydra.run.dir={run}", "trainer.progress=false"]
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"the run failed: {proc.stderr[-2000:]}")
        sizes = {part: sum(size(run / name) for name in names) for part, names in PARTS.items()}
        total = size(run)
    estimated = sum(estimate(args.overrides).values())
    rows = "\n".join(f"| {part} | {size_text(n)} |" for part, n in sizes.items())
    model = cfg.model._target_.rsplit(".", 1)[-1]
    body = (
        f"`{' '.join(['python -m gensweep', *args.overrides])}` ({model} on {cfg.dataset.name}, "
        f"{cfg.n_epochs} epochs): the run folder when it completes, and the most the run expected to write "
        f"when it checked its disk before starting.\n\n"
        f"| part | size |\n|---|---|\n{rows}\n| **total** | **{size_text(total)}** |\n"
        f"| expected before the start (at most) | {size_text(estimated)} |\n\n"
        "Each study's sweep (`scripts/study.sh <study>`, 50 epochs a run but S4's CelebA at 200): the same "
        "estimate added up over its runs, each run's model at its dataset's real size. Sample grids count at "
        "their raw size; as PNG files they take less.\n\n" + studies_table()
    )
    print(body)
    if args.write:
        print(f"written: {write(args.write, body)}", file=sys.stderr)


if __name__ == "__main__":
    main()
