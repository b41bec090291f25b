"""Latent-space versus pixel-space interpolation between the same two endpoints (STUDIES S3, S5).

Autoencoders interpolate between two real images' latent codes, and the pixel row cross-fades those two
images. Generators interpolate between two random latents, and the pixel row cross-fades the two images
they decode to. A good latent space changes structure along the path; the pixel row can only blend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gensweep.artifacts.images import save_grid
from gensweep.files import atomic_write
from gensweep.models.base import GenerativeModel


@torch.no_grad()
def interpolate(
    model: GenerativeModel, real: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, steps: int = 10
) -> tuple[torch.Tensor, torch.Tensor]:
    """(latent row, pixel row), each `steps` [0, 1] images, from two model-range images `real`."""
    model.eval()
    cond = labels[:1].repeat(2).to(model.device) if model.conditional else None  # one class along the path
    z = model.encode(real[:2])
    if z is None:
        z = torch.randn(2, model.z_dim, generator=generator).to(model.device)
        ends = model.decode(z, cond)
    else:
        ends = model.to_unit(real[:2])
    t = torch.linspace(0, 1, steps, device=model.device)
    path = torch.lerp(z[0:1], z[1:2], t[:, None])
    latent_row = model.decode(path, None if cond is None else cond[:1].repeat(steps))
    pixel_row = torch.lerp(ends[0:1], ends[1:2], t.view(-1, 1, 1, 1))
    return latent_row, pixel_row


def save_interpolation(latent_row: torch.Tensor, pixel_row: torch.Tensor, run_dir: Path, gif_side: int = 192) -> None:
    """interpolation.png (latent row above, pixel row below) and interpolation.gif (the latent path)."""
    save_grid(torch.cat([latent_row, pixel_row]), run_dir / "interpolation.png", nrow=len(latent_row))
    frames = []
    for image in list(latent_row) + list(latent_row.flip(0))[1:-1]:  # there and back again, looping
        pixels = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
        frame = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else np.ascontiguousarray(pixels[:, :, :3]))
        scale = max(1, gif_side // max(frame.size))
        frames.append(frame.resize((frame.width * scale, frame.height * scale), Image.NEAREST))
    atomic_write(
        run_dir / "interpolation.gif",
        lambda f: frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:], duration=150, loop=0),
    )
