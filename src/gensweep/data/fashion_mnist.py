"""Fashion-MNIST (Xiao et al., 2017): MNIST's idx format and sizes, ten clothing classes."""

from __future__ import annotations

import torchvision.datasets as tvd
from omegaconf import DictConfig

from gensweep.data.mnist import load_idx_set
from gensweep.data.tensors import ImageTensors


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    return load_idx_set(cfg, tvd.FashionMNIST, "Fashion-MNIST")
