"""metrics.csv: one row per finished epoch, appended and fsynced before that epoch's checkpoint is written.

On resume, rows past the checkpoint's epoch (an epoch whose checkpoint never landed) are dropped, so the
file always matches the state training continues from.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from gensweep.files import csv_number, read_csv, write_csv


class MetricsLog:
    def __init__(self, path: Path, columns: list[str], resume_epoch: int = 0) -> None:
        self.path = Path(path)
        self.columns = columns
        kept: list[dict[str, str]] = []
        if resume_epoch > 0 and self.path.exists():
            kept = [r for r in read_csv(self.path) if r.get("epoch", "").isdigit() and int(r["epoch"]) <= resume_epoch]
        write_csv(self.path, kept, columns)
        self.rows: list[dict[str, float]] = [{k: csv_number(v) for k, v in r.items()} for r in kept]

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
