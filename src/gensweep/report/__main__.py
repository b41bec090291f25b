"""`python -m gensweep.report <sweep> [<sweep> ...]`: (re)write a sweep's report, or one report over several.

One sweep: its report/ folder, rewritten (also while the sweep still runs: the runs so far, read without
touching them). Several sweeps (e.g. a study on MNIST and on CIFAR-10, or before and after a change): one
report over all their runs, each run keyed by its sweep's name, in --out (default outputs/reports/<time>).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gensweep.report.runs import collect
from gensweep.report.sweep import write_comparison, write_report


def _runs_of(folder: Path, name: str = "") -> list:
    if not folder.is_dir():
        sys.exit(f"gensweep.report: error: {folder} is not a folder; pass a sweep folder under outputs/multirun/")
    runs = collect(folder, name)
    if not runs:
        what = "a single run's folder" if (folder / ".hydra").is_dir() else "a folder without job folders"
        sys.exit(
            f"gensweep.report: error: {folder} is {what}, not a sweep: pass a sweep folder under "
            "outputs/multirun/ (a run's own curves.png and samples/ are its report)"
        )
    return runs


def _names(folders: list[Path]) -> list[str]:
    """Short distinct names: the last path parts that tell the sweeps apart (e.g. 2026-11-29/14-03-11)."""
    parts = [f.resolve().parts for f in folders]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(f) for f in folders]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gensweep.report", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1]
    )
    parser.add_argument("sweeps", type=Path, nargs="+", help="sweep folders, e.g. outputs/multirun/2026-11-23/19-20-07")
    parser.add_argument("--out", type=Path, default=None, help="where a report over several sweeps goes")
    args = parser.parse_args()
    if len(args.sweeps) == 1 and args.out is None:
        readme = write_report(args.sweeps[0], _runs_of(args.sweeps[0]))
    else:
        if len(set(f.resolve() for f in args.sweeps)) < len(args.sweeps):
            sys.exit("gensweep.report: error: a sweep folder is named twice; name each sweep once")
        runs = [r for folder, name in zip(args.sweeps, _names(args.sweeps)) for r in _runs_of(folder, name)]
        out = args.out or Path("outputs/reports") / time.strftime("%Y-%m-%d_%H-%M-%S")
        readme = write_comparison(runs, out, " + ".join(str(f) for f in args.sweeps))
    print(f"report written: {readme} (open {readme.parent / 'index.html'} in a browser)")


if __name__ == "__main__":
    main()
