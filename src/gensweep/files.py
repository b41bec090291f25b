"""Files every layer shares: crash-safe writes (a file is either the old version or the complete new one,
never half-written) and reading back the CSV files the runs write."""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from gensweep.errors import ConfigError, WriteFailed

# A run folder's files that more than one layer opens.
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"


# What each write error means, and what to do about it.
SPACE_FIX = "free space there or move the folder to a larger disk"
WRITE_ERRORS = {
    errno.ENOSPC: ("its disk is full", SPACE_FIX),
    errno.EDQUOT: ("the disk quota is reached", SPACE_FIX),
    errno.EROFS: ("its file system is read-only", "choose a writable folder"),
    errno.EACCES: ("no permission to write there", "make the folder writable or choose another"),
    errno.EPERM: ("no permission to write there", "make the folder writable or choose another"),
    errno.EIO: ("an I/O error on its disk", "check the disk, or choose a folder on another one"),
}


def size_text(n: int) -> str:
    """A byte count as people read it: 20.5 kB, 1.6 MB, 11.0 GB."""
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None], fix: str = "") -> None:
    """Write `data` (bytes, or a function that writes to the file) through a temp file in the same folder,
    fsync it, then rename it over `path`: `path` is the old file or the whole new one, never a part.

    Any OS error raises WriteFailed (one line: the file, the space free against what it needed, the fix, then
    `fix`, another way out for this file), after the temp file is removed; `path` is left as it was."""
    path = Path(path)
    # one temp file per process: two jobs of a sweep that write the same cache at once each rename a whole file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                data(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:
        cause = err if isinstance(err, OSError) else err.__context__  # torch.save wraps the OS error
        if not isinstance(cause, OSError):
            raise
        written = 0
        if tmp.is_file():
            written = tmp.stat().st_size
            with contextlib.suppress(OSError):  # the disk refuses even that (EIO): the error says what matters
                tmp.unlink()
        raise write_failed(path, cause, len(data) if isinstance(data, bytes) else None, written, fix) from err


def write_failed(path: Path, err: OSError, needed: int | None, written: int, fix: str = "") -> WriteFailed:
    """The one-line error for a write to `path` that failed with `err`."""
    reason, remedy = WRITE_ERRORS.get(err.errno or 0, (err.strerror or str(err), "check the folder"))
    space = ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        free = size_text(shutil.disk_usage(nearest_existing(path.parent)).free)
        wanted = size_text(needed) if needed else f"more than {size_text(written)}"
        space = f" ({free} free, {wanted} needed)"
    return WriteFailed(f"cannot write {path}: {reason}{space}; {remedy}{f', or {fix}' if fix else ''}", path)


def nearest_existing(path: Path) -> Path:
    """`path`, or its nearest parent that exists (where a folder not made yet would go)."""
    path = Path(path).expanduser().absolute()
    return next(p for p in [path, *path.parents] if p.exists())


def check_space(folder: Path, parts: dict[str, int]) -> None:
    """ConfigError (one line) when `folder`'s disk (its nearest existing parent's, for a folder not made yet)
    has less free space than the parts of a run add up to."""
    free = shutil.disk_usage(nearest_existing(folder)).free
    need = sum(parts.values())
    if free < need:
        shown = ", ".join(f"{name} {size_text(n)}" for name, n in parts.items())
        raise ConfigError(
            f"{folder} has {size_text(free)} free on its disk and this run writes up to {size_text(need)} "
            f"({shown}): free space there, or set hydra.run.dir=<a folder on a larger disk>"
        )


def write_text(path: Path, text: str) -> None:
    atomic_write(path, text.encode())


def save_figure(fig: Any, path: Path) -> None:
    """A matplotlib figure as a PNG, whole or not at all; the figure is closed either way."""
    import matplotlib.pyplot as plt

    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    finally:
        plt.close(fig)


def rewrite_in_place(path: Path, data: dict[str, Any]) -> None:
    """Overwrite an existing JSON file in its own blocks, without a temp copy: the last resort for marking a run
    failed on a full disk (not crash-safe, so only where write_json has just failed). OSError if even that fails."""
    text = (json.dumps(data, indent=2, default=str) + "\n").encode()
    with open(path, "r+b") as f:
        f.write(text)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(data, indent=2, default=str) + "\n").encode())


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """Rows under a header (`columns`, else the first row's keys), written whole or not at all; a column a
    row lacks is left empty, a key not among the columns is left out."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns or (list(rows[0]) if rows else []), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buf.getvalue().encode())


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
