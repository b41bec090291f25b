"""`python -m gensweep.report <sweep folder>`: (re)write a sweep's comparison report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gensweep.report.sweep import collect, write_report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gensweep.report", description=__doc__)
    parser.add_argument("sweep", type=Path, help="a sweep folder, e.g. outputs/multirun/2026-11-23/19-20-07")
    args = parser.parse_args()
    if not args.sweep.is_dir():
        sys.exit(f"gensweep.report: error: {args.sweep} is not a folder; pass a sweep folder under outputs/multirun/")
    runs = collect(args.sweep)
    if not runs:
        what = "a single run's folder" if (args.sweep / ".hydra").is_dir() else "a folder without job folders"
        sys.exit(f"gensweep.report: error: {args.sweep} is {what}, not a sweep: pass a sweep folder under "
                 "outputs/multirun/ (a run's own curves.png and samples/ are its report)")
    readme = write_report(args.sweep, runs)
    print(f"report written: {readme}")


if __name__ == "__main__":
    main()
