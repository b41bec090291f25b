"""Datasets: each set is one module with `load(cfg) -> (train, val)` and one YAML naming it as `loader`."""

from __future__ import annotations

from hydra.utils import get_method
from omegaconf import DictConfig

from gensweep.data.tensors import ImageTensors


def load_splits(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    """The configured set's full (train, validation) splits."""
    return get_method(cfg.loader)(cfg)


def apply_subset(train: ImageTensors, subset: int | None) -> ImageTensors:
    """Keep the first `subset` training images (smoke runs); None keeps all."""
    return train if subset is None else train.head(int(subset))


__all__ = ["ImageTensors", "apply_subset", "load_splits"]
