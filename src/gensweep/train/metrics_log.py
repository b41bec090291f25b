"""metrics.csv: one row per finished epoch, appended and fsynced before that epoch's checkpoint is written.

On resume, rows past the checkpoint's epoch (an epoch whose checkpoint never landed) are dropped, so the
file always matches the state training continues from.
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from gensweep.train.files import atomic_write

FILENAME = "metrics.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class MetricsLog:
    def __init__(self, path: Path, columns: list[str], resume_epoch: int = 0) -> None:
        self.path = Path(path)
        self.columns = columns
        kept: list[dict[str, str]] = []
        if resume_epoch > 0 and self.path.exists():
            kept = [r for r in read_rows(self.path) if r.get("epoch", "").isdigit() and int(r["epoch"]) <= resume_epoch]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(kept)
        atomic_write(self.path, lambda f: f.write(buf.getvalue().encode()))
        self.rows: list[dict[str, float]] = [{k: _number(v) for k, v in r.items()} for r in kept]

    def append(self, row: dict[str, float]) -> None:
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore").writerow(
                {k: _format(row.get(k)) for k in self.columns}
            )
            f.flush()
            os.fsync(f.fileno())
        self.rows.append(row)


def _format(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _number(text: str) -> float | int:
    if text in ("", None):
        return math.nan
    return int(text) if text.isdigit() else float(text)
