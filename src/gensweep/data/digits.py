"""scikit-learn's bundled handwritten digits: 1,797 real 8x8 scans, no download, for runs out of the box."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from gensweep.data.cache import cached, cache_path
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
    pixels = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # values 0..16 -> 0..1
    if size != 8:
        pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
    if channels != 1:
        pixels = pixels.expand(-1, channels, -1, -1)
    images = (pixels.clamp(0, 1) * 255).round().to(torch.uint8).contiguous()
    return ImageTensors(images, torch.tensor(bunch.target, dtype=torch.int64))
