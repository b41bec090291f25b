"""Datasets: each set is one module with `load(cfg) -> (train, val)` and one YAML naming it as `loader`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hydra.utils import get_method
from omegaconf import DictConfig

from gensweep.data.location import converted_before

if TYPE_CHECKING:  # a sweep's launching process imports this package, and torch only when it must load a set
    from gensweep.data.tensors import ImageTensors


def load_splits(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    """The configured set's full (train, validation) splits."""
    return get_method(cfg.loader)(cfg)


def prepare(cfg: DictConfig) -> None:
    """Fetch and convert the set once, unless it was converted at this size before: what a sweep's launching
    process does before its jobs start, so that a set that cannot be had is one refusal there, and the jobs
    never download or convert the same files at once (DatasetError as `load_splits`)."""
    if not converted_before(cfg):
        load_splits(cfg)


def apply_subset(train: ImageTensors, subset: int | None) -> ImageTensors:
    """Keep the first `subset` training images (smoke runs); None keeps all."""
    return train if subset is None else train.head(int(subset))


__all__ = ["apply_subset", "load_splits", "prepare"]
