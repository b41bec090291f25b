"""The fixed validation split for sets that publish no test split."""

from __future__ import annotations

import torch

from gensweep.data.tensors import ImageTensors


def seeded_split(data: ImageTensors, val_fraction: float, split_seed: int) -> tuple[ImageTensors, ImageTensors]:
    """Shuffle once with `split_seed` and cut off `val_fraction` for validation.

    The seed is the dataset's, not the run's, so every run (and every sweep job) validates on the same images.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(split_seed))
    n_val = max(1, round(len(data) * val_fraction))
    val, train = order[:n_val], order[n_val:]
    return (
        ImageTensors(data.images[train].contiguous(), data.labels[train].contiguous()),
        ImageTensors(data.images[val].contiguous(), data.labels[val].contiguous()),
    )
