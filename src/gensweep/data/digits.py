"""scikit-learn's bundled handwritten digits: 1,797 real 8x8 scans, no download, for runs out of the box."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from sklearn.datasets import load_digits

from gensweep.data.split import seeded_split
from gensweep.data.tensors import ImageTensors


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    """Return (train, validation): digits resized from 8x8 to image_size, as uint8 with a fixed seeded split."""
    bunch = load_digits()
    pixels = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # values 0..16 -> 0..1
    size = int(cfg.image_size)
    if size != 8:
        pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
    if int(cfg.channels) != 1:
        pixels = pixels.expand(-1, int(cfg.channels), -1, -1)
    images = (pixels.clamp(0, 1) * 255).round().to(torch.uint8).contiguous()
    labels = torch.tensor(bunch.target, dtype=torch.int64)
    return seeded_split(ImageTensors(images, labels), float(cfg.val_fraction), int(cfg.split_seed))
