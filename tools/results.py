"""Where measured tables go: docs/results/<name>.md, each headed by one line naming the machine, the date and
the command that wrote it, so that prose links to a table instead of retelling how it was made."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"


def machine() -> str:
    """CPU model, cores, torch version and threads, e.g. 'AMD EPYC 7B13, 2 cores, torch 2.14.1, 2 threads'."""
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def write(name: str, body: str) -> Path:
    """docs/results/<name>.md: the header line, then `body` (Markdown)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    header = f"Measured on {machine()}, {datetime.date.today().isoformat()}: `{command}`"
    path = RESULTS / f"{name}.md"
    path.write_text(f"{header}\n\n{body.rstrip()}\n")
    return path


def doc_parser(doc: str) -> argparse.ArgumentParser:
    """A script's argument parser whose help is its docstring: the first paragraph, then the rest as written."""
    return argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        epilog=doc.split("\n\n", 1)[1] if "\n\n" in doc else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
