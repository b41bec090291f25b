"""What a run writes to disk: its folder's size by part once it completes.

    python tools/disk_use.py                       # the default run (python -m gensweep)
    python tools/disk_use.py model=dcgan width=128 # another run's settings

Writes docs/results/disk_use.md (the header names machine, date and command).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import doc_parser, write  # noqa: E402

from gensweep.api import compose_config, megabytes  # noqa: E402

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
    rows = "\n".join(f"| {part} | {megabytes(n)} |" for part, n in sizes.items())
    model = cfg.model._target_.rsplit(".", 1)[-1]
    body = (
        f"`{' '.join(['python -m gensweep', *args.overrides])}` ({model} on {cfg.dataset.name}, "
        f"{cfg.n_epochs} epochs): the run folder when it completes.\n\n"
        f"| part | size |\n|---|---|\n{rows}\n| **total** | **{megabytes(total)}** |"
    )
    print(body)
    if args.write:
        print(f"written: {write(args.write, body)}", file=sys.stderr)


if __name__ == "__main__":
    main()
