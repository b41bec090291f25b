"""MNIST (and, through `load_idx_set`, Fashion-MNIST): torchvision's classes, idx files, official test split.

torchvision layout: <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte; `.gz` copies of those
files are unpacked in place when the plain files are missing.
"""

from __future__ import annotations

import gzip
import shutil
import zlib
from pathlib import Path

import torchvision.datasets as tvd
from omegaconf import DictConfig

from gensweep.data.cache import official_splits
from gensweep.data.fetch import corrupt, ensure_files
from gensweep.data.tensors import ImageTensors
from gensweep.files import atomic_write


def _files(split: str) -> list[str]:
    prefix = "train" if split == "train" else "t10k"
    return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]


def _gunzip_missing(folder: Path, names: list[str]) -> None:
    for name in names:
        plain, packed = folder / name, folder / f"{name}.gz"
        if not plain.exists() and packed.is_file():
            try:
                with gzip.open(packed, "rb") as src:
                    atomic_write(plain, lambda dst: shutil.copyfileobj(src, dst))
            except (OSError, EOFError, zlib.error) as err:
                raise corrupt(packed, err) from err


def _read(cls: type[tvd.MNIST], title: str, root: Path, split: str, download: bool) -> ImageTensors:
    folder = root / cls.__name__ / "raw"
    names = _files(split)
    every = _files("train") + _files("test")  # torchvision wants all four before it reads either split
    layout = "\n".join(f"  {folder}/{n}   (or {n}.gz)" for n in every)
    _gunzip_missing(folder, every)
    ensure_files(
        title,
        root,
        lambda: all((folder / n).is_file() for n in every),
        download,
        lambda: cls(str(root), train=split == "train", download=True),
        layout,
    )
    try:
        ds = cls(str(root), train=split == "train", download=False)
    except (AssertionError, RuntimeError, ValueError, IndexError) as err:  # torchvision's idx parser asserts sizes
        raise corrupt(f"{folder}/{names[0]} or {names[1]}", err) from err
    if ds.data.dim() != 3 or len(ds.data) != len(ds.targets):
        raise corrupt(folder / names[0], ValueError(f"{len(ds.data)} images but {len(ds.targets)} labels"))
    return ImageTensors(ds.data.unsqueeze(1).contiguous(), ds.targets.long())


def load_idx_set(cfg: DictConfig, cls: type[tvd.MNIST], title: str) -> tuple[ImageTensors, ImageTensors]:
    """Train on the official training files, validate on the official test files."""
    return official_splits(cfg, title, lambda root, split, download: _read(cls, title, root, split, download))


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    return load_idx_set(cfg, tvd.MNIST, "MNIST")
