"""How long the test suite takes: the fast tier (`pytest -n 2 -m "not slow"`, what to run while working) and the
full suite (`pytest -n 2`, what CI runs), each timed once from this repository, with its pass/skip/fail counts;
written to docs/results/test_times.md. Run it on a quiet machine: the targets are 2 and 8 minutes on 2 cores.

    python tools/suite_time.py
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIERS = {
    "fast tier": ["-m", "not slow"],
    "full suite": [],
}


def run(extra: list[str], workers: int) -> tuple[float, str]:
    """Wall seconds of one pytest run and its summary line (e.g. '250 passed, 19 skipped')."""
    command = [sys.executable, "-m", "pytest", "-n", str(workers), "-q", "-p", "no:cacheprovider", *extra]
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    last = [line for line in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    summary = re.sub(r"=+|\s+in [\d.]+s.*$", "", last[-1]).strip() if last else f"exit {proc.returncode}"
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
    return seconds, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (-n)")
    args = parser.parse_args()
    rows = ["| tier | command | wall time | result |", "|---|---|---|---|"]
    for tier, extra in TIERS.items():
        seconds, summary = run(extra, args.workers)
        shown = " ".join(["python -m pytest", "-n", str(args.workers), *(f'"{a}"' if " " in a else a for a in extra)])
        rows.append(f"| {tier} | `{shown}` | {seconds / 60:.1f} min ({seconds:.0f} s) | {summary} |")
        print(rows[-1], flush=True)
    path = write("test_times", "\n".join(rows))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
