"""Datasets: each set is one module with `load(cfg) -> (train, val)` and one YAML naming it as `loader`."""
from __future__ import annotations

from hydra.utils import get_method
from omegaconf import DictConfig

from gensweep.data.tensors import ImageTensors


def build_datasets(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    """Load the configured set and apply `subset` (keep the first N training images, for smoke runs)."""
    train, val = get_method(cfg.loader)(cfg)
    if cfg.get("subset") is not None:
        train = train.head(int(cfg.subset))
    return train, val


__all__ = ["ImageTensors", "build_datasets"]
