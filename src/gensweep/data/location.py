"""Where a set's files and its converted cache live. Torch-free: a sweep's launching process looks here before
it decides to load anything (gensweep.data.prepare)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from gensweep.errors import DatasetError

FOLDER = "gensweep-cache"
VERSION = 1  # the cache files' format


def dataset_root(cfg: DictConfig) -> Path:
    """The absolute dataset folder (absolute, so every message names an unambiguous path)."""
    root = Path(str(cfg.root)).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise DatasetError(f"dataset.root={cfg.root} is a file, not a folder: point dataset.root at a folder")
    return root


def cache_path(cfg: DictConfig, split: str) -> Path:
    """<cache_dir or root/gensweep-cache>/<set>-<split>-<size>px-<channels>ch-v<format>.pt"""
    return _cache_folder(cfg) / f"{cfg.name}-{split}-{int(cfg.image_size)}px-{int(cfg.channels)}ch-v{VERSION}.pt"


def converted_before(cfg: DictConfig) -> bool:
    """Whether a split of this set was converted at this size before: its files were there then."""
    pattern = f"{cfg.name}-*-{int(cfg.image_size)}px-{int(cfg.channels)}ch-v{VERSION}.pt"
    return any(_cache_folder(cfg).glob(pattern))


def _cache_folder(cfg: DictConfig) -> Path:
    return Path(str(cfg.cache_dir)).expanduser() if cfg.get("cache_dir") else dataset_root(cfg) / FOLDER
