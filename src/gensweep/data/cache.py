"""Decode once: a converted split is saved as one uint8 tensor file under the dataset root.

The file is keyed by set, split, size and channels, so a changed key makes a new file. It is written
atomically after a successful conversion, so an interrupted or failed conversion leaves nothing behind.
"""

from __future__ import annotations

import logging
import pickle
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from omegaconf import DictConfig

from gensweep.data.convert import fit_images
from gensweep.data.fetch import check_val_split
from gensweep.data.location import cache_path, dataset_root
from gensweep.data.tensors import ImageTensors
from gensweep.errors import DatasetError
from gensweep.files import atomic_write

log = logging.getLogger("gensweep")
# Another way out when a cache under it cannot be written (the dataset's and the FID classifier's).
CACHE_FIX = "set dataset.cache_dir=<another folder>"


def cached(path: Path, build: Callable[[], ImageTensors]) -> ImageTensors:
    """Load `path` if it holds a finished conversion, else run `build` and save its result there."""
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            return ImageTensors(state["images"], state["labels"])
        except (
            OSError,
            EOFError,
            RuntimeError,
            KeyError,
            ValueError,
            pickle.UnpicklingError,
            zipfile.BadZipFile,
        ) as err:
            log.warning("cache %s is unreadable (%s): converting the dataset again", path, err)
    start = time.perf_counter()
    data = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: torch.save({"images": data.images, "labels": data.labels}, f), CACHE_FIX)
    except OSError as err:
        raise DatasetError(
            f"cannot write the dataset cache {path} ({err.strerror or err}); make that folder writable or set "
            "dataset.cache_dir=<a writable folder>"
        ) from err
    log.info(
        "converted %d images once into %s (%.1fs); later runs load that file",
        len(data),
        path,
        time.perf_counter() - start,
    )
    return data


def converted(cfg: DictConfig, split: str, read: Callable[[], ImageTensors]) -> ImageTensors:
    """The cached split at the configured size and channels; `read` returns it decoded, at any size."""
    size, channels = int(cfg.image_size), int(cfg.channels)

    def build() -> ImageTensors:
        raw = read()
        return ImageTensors(fit_images(raw.images, size, channels), raw.labels)

    return cached(cache_path(cfg, split), build)


def official_splits(
    cfg: DictConfig, title: str, read: Callable[[Path, str, bool], ImageTensors]
) -> tuple[ImageTensors, ImageTensors]:
    """Train on the set's official training split and validate on its official test split, each decoded once
    by `read(root, split, download)` and cached at the configured size."""
    root, download = dataset_root(cfg), bool(cfg.download)
    check_val_split(cfg, ("test",), title)
    train = converted(cfg, "train", lambda: read(root, "train", download))
    return train, converted(cfg, "test", lambda: read(root, "test", download))
