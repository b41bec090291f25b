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
    try:
        root.mkdir(parents=True, exist_ok=True)
        fetch()
    except (URLError, OSError, RuntimeError) as err:
        first = (str(err).strip().splitlines() or [""])[0]  # torchvision's errors list every mirror it tried
        raise DatasetError(
            f"could not download {name} into {root} ({type(err).__name__}: {first}). Check the network, or put the "
            f"files there by hand in this layout and run with dataset.download=false:\n{layout}"
        ) from err
    if not present():
        raise DatasetError(f"{name}: the download into {root} did not produce the expected files:\n{layout}")


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
