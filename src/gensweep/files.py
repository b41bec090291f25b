"""Files every layer shares: crash-safe writes (a file is either the old version or the complete new one,
never half-written) and reading back the CSV files the runs write."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

# A run folder's files that more than one layer opens.
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through a temp file in the same folder, fsync it, then rename it over `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, lambda f: f.write((json.dumps(data, indent=2, default=str) + "\n").encode()))


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """Rows under a header (`columns`, else the first row's keys), written whole or not at all; a column a
    row lacks is left empty, a key not among the columns is left out."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns or (list(rows[0]) if rows else []), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, lambda f: f.write(buf.getvalue().encode()))


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, as text."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def csv_number(text: str | None) -> float | int:
    """A CSV cell as a number: an int for digits (epoch, step, classes), NaN for an empty or unreadable cell."""
    if text is None or text == "":
        return math.nan
    if text.isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return math.nan
