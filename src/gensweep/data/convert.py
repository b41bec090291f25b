"""Bring decoded uint8 images to the configured size and channel count, once, at conversion time."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma, what PIL's convert("L") uses.
LUMA = torch.tensor([0.299, 0.587, 0.114])


def fit_images(images: torch.Tensor, size: int, channels: int, chunk: int = 2048) -> torch.Tensor:
    """uint8 (N, C, H, W), or float in [0, 255] (a set stored as fractions), -> uint8 (N, channels, size, size).

    Non-square images are centre-cropped to a square first; resizing is antialiased bilinear; RGB -> gray
    uses BT.601 luma and gray -> RGB repeats the channel. Works in chunks to bound memory.
    """
    if images.dim() != 4 or not (images.dtype == torch.uint8 or images.is_floating_point()):
        raise ValueError(f"expected uint8 or float (N, C, H, W) images, got {images.dtype} {tuple(images.shape)}")
    n, c, h, w = images.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    images = images[:, :, top : top + side, left : left + side]
    if side == size and c == channels and images.dtype == torch.uint8:
        return images.contiguous()
    out = torch.empty((n, channels, size, size), dtype=torch.uint8)
    for start in range(0, n, chunk):
        x = images[start : start + chunk].float()
        if side != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)
        out[start : start + chunk] = to_channels(x, channels).round().clamp_(0, 255).to(torch.uint8)
    return out


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    c = x.shape[1]
    if c == channels:
        return x
    if channels == 1 and c == 3:
        return (x * LUMA.view(1, 3, 1, 1).to(x)).sum(1, keepdim=True)
    if c == 1:
        return x.expand(-1, channels, -1, -1)
    raise ValueError(f"cannot convert {c}-channel images to {channels} channels")
