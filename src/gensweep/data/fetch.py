"""Finding a set's files, downloading them when allowed, and saying exactly what to do when neither works."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError

from gensweep.errors import DatasetError


def ensure_files(
    name: str, root: Path, present: Callable[[], bool], download: bool, fetch: Callable[[], None], layout: str
) -> None:
    """Make sure `present()` holds: download with `fetch` if allowed, else raise a DatasetError with the layout."""
    if present():
        return
    if not download:
        raise DatasetError(
            f"{name} files not found under {root}. Set dataset.download=true to fetch them, point paths.data_dir= "
            f"(or GENSWEEP_DATA) at the folder that holds them, or put them there by hand in this layout:\n{layout}"
        )
    made = _missing_folders(root)
    folders = _folders(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fetch()
    except (URLError, OSError, RuntimeError) as err:
        _remove_empty(root, folders, made)
        raise DatasetError(
            f"could not download {name} into {root} ({type(err).__name__}: {_cause(err)}). Check the network, or "
            f"put the files there by hand in this layout and run with dataset.download=false:\n{layout}"
        ) from err
    if not present():
        raise DatasetError(f"{name}: the download into {root} did not produce the expected files:\n{layout}")


def _cause(err: Exception) -> str:
    """The download error in one line: torchvision's lists every mirror it tried after a heading ending in ':'
    ("Error downloading train-images-idx3-ubyte.gz:"), each with the same reason: the heading and the last."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [""]
    return f"{lines[0]} {lines[-1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def _missing_folders(root: Path) -> list[Path]:
    """`root` and its parents that do not exist yet, deepest first."""
    return [p for p in [root, *root.parents] if not p.exists()]


def _folders(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_dir()} if root.is_dir() else set()


def _remove_empty(root: Path, before: set[Path], made: list[Path]) -> None:
    """After a failed download: the empty folders it made under `root` (torchvision makes <Set>/raw before it
    fetches), then `root` and the parents made for it, so that a refused download leaves the disk as it was."""
    for folder in sorted(_folders(root) - before, key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    for folder in made:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def corrupt(
    path: Path | str, err: Exception, fix: str = "delete it and run again with dataset.download=true, or replace it"
) -> DatasetError:
    return DatasetError(f"{path} is truncated or corrupt ({type(err).__name__}: {err}); {fix}")


def check_val_split(cfg, allowed: tuple[str, ...], title: str) -> str:
    """The configured validation split, if this set has it."""
    split = str(cfg.val_split)
    if split not in allowed:
        raise DatasetError(f"dataset.val_split={split!r} is not a split of {title}: use {' or '.join(allowed)}")
    return split
