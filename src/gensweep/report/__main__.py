"""`python -m gensweep.report <sweep folder>`: (re)write a sweep's comparison report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gensweep.report.sweep import write_report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gensweep.report", description=__doc__)
    parser.add_argument("sweep", type=Path, help="a sweep folder, e.g. outputs/multirun/2026-11-23/19-20-07")
    args = parser.parse_args()
    if not args.sweep.is_dir():
        sys.exit(f"gensweep.report: error: {args.sweep} is not a folder; pass a sweep folder under outputs/multirun/")
    readme = write_report(args.sweep)
    print(f"report written: {readme}")


if __name__ == "__main__":
    main()
