"""Decode a list of JPEG/PNG files into one uint8 tensor, each image centre-cropped and resized on the way.

Used by the sets published as folders of images (CelebA, UT Zappos50K). Pillow decodes (releasing the GIL,
so a thread pool helps) and JPEGs much larger than the target are decoded at a reduced scale (`draft`).
This happens once per cache file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gensweep.data.convert import fit_images
from gensweep.errors import DatasetError

EXTENSIONS = (".jpg", ".jpeg", ".png")


def list_images(folder: Path) -> list[Path]:
    """Every image file below `folder`, in a fixed (sorted) order."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())


def _decode_one(path: Path, size: int, channels: int) -> torch.Tensor:
    try:
        with Image.open(path) as img:
            img.draft("RGB", (size, size))
            pixels = np.asarray(img.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as err:  # UnidentifiedImageError is an OSError
        raise DatasetError(f"cannot read image {path} ({err}); delete or replace that file") from err
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).unsqueeze(0)
    return fit_images(image, size, channels)[0]


def decode_files(paths: list[Path], size: int, channels: int) -> torch.Tensor:
    """uint8 (N, channels, size, size) from image files; the first unreadable file stops it, named."""
    out = torch.empty((len(paths), channels, size, size), dtype=torch.uint8)
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        for i, image in enumerate(pool.map(lambda p: _decode_one(p, size, channels), paths)):
            out[i] = image
    return out
