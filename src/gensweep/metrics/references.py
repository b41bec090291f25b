"""Which real images every score is measured against, and how a model's samples for scoring are drawn.

References are a seeded random sample of a split, the same for every run of a dataset, never its first
images: MNIST's files, for one, are ordered by writer population, and scoring against their head flatters
a model and lowers the real-data floor.
"""

from __future__ import annotations

import torch

from gensweep.models.base import GenerativeModel

# One fixed draw per role, so that FID's held-out reference, its floor and the probe's images are the same
# for every run (and every model) on a dataset.
HELD_OUT, FLOOR, PROBE_TRAIN = 0, 1, 2


def reference_indices(total: int, n: int, role: int) -> torch.Tensor:
    """`n` distinct indices of a split of `total` images, drawn at random with the seed of `role`."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(role))[:n]


@torch.no_grad()
def generate(model: GenerativeModel, n: int, seed: int, batch_size: int = 256) -> torch.Tensor:
    """n [0, 1] samples from noise drawn with `seed` (conditional models: the classes in turn); the global
    random stream is not touched."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    images = []
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        z = torch.randn(count, model.z_dim, generator=gen).to(model.device)
        labels = (torch.arange(start, start + count) % model.n_classes).to(model.device) if model.conditional else None
        images.append(model.sample(z, labels))
    return torch.cat(images)
