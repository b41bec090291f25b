"""scikit-learn's bundled handwritten digits: 1,797 real 8x8 scans, no download, for runs out of the box."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from gensweep.data.cache import cached
from gensweep.data.convert import fit_images
from gensweep.data.location import cache_path
from gensweep.data.split import seeded_split
from gensweep.data.tensors import ImageTensors


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    """Return (train, validation): digits resized from 8x8 to image_size, as uint8 with a fixed seeded split.

    The resized set is cached like every other set's conversion: later runs skip importing scikit-learn
    (about a second of every run's start-up)."""
    everything = cached(cache_path(cfg, "all"), lambda: _convert(int(cfg.image_size), int(cfg.channels)))
    return seeded_split(everything, float(cfg.val_fraction), int(cfg.split_seed))


def _convert(size: int, channels: int) -> ImageTensors:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    levels = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) * (255.0 / 16.0)  # values 0..16 -> 0..255
    return ImageTensors(fit_images(levels, size, channels), torch.tensor(bunch.target, dtype=torch.int64))
