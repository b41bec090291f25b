"""Sample grids and reconstruction strips, through torchvision's make_grid / save_image."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torchvision.utils import save_image

from gensweep.files import atomic_write


def save_grid(images: torch.Tensor, path: Path, nrow: int) -> None:
    """[0, 1] images -> one PNG grid, nrow images per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = images.detach().float().cpu()
    # whole or not at all: a report read while the run goes on never sees half a PNG
    buf = io.BytesIO()
    save_image(grid, buf, nrow=nrow, padding=2, format="png")
    atomic_write(path, buf.getvalue())


def save_reconstructions(originals: torch.Tensor, reconstructions: torch.Tensor, path: Path) -> None:
    """Originals in the top row, their reconstructions below."""
    both = torch.cat([originals.detach().float().cpu(), reconstructions.detach().float().cpu()])
    save_grid(both, path, nrow=len(originals))
