"""A whole image dataset held as one uint8 tensor, batched by a random permutation each epoch.

Decoding and resizing happen once, when a set is loaded; the training hot path is an index into a tensor
that already sits on the training device, so no per-image Python transform runs per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass
class ImageTensors:
    """N images as uint8 (N, C, H, W) and their int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(
                f"images must be a uint8 (N, C, H, W) tensor, got {self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"labels must have shape ({len(self.images)},), got {tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def nbytes(self) -> int:
        return self.images.numel() * self.images.element_size() + self.labels.numel() * 8

    def to(self, device: torch.device | str) -> ImageTensors:
        return ImageTensors(self.images.to(device), self.labels.to(device))

    def head(self, n: int) -> ImageTensors:
        """The first n images (datasets are stored in a fixed shuffled or official order)."""
        return ImageTensors(self.images[:n], self.labels[:n])

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False, skip: int = 0
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (uint8 images, labels) batches; shuffled with `generator` when one is given.

        `skip` leaves out the first batches of the same order (continuing an interrupted epoch)."""
        n = len(self)
        if generator is not None:
            order = torch.randperm(n, generator=generator).to(self.images.device)
        else:
            order = torch.arange(n, device=self.images.device)
        stop = n - n % batch_size if drop_last else n
        for start in range(skip * batch_size, stop, batch_size):
            idx = order[start : start + batch_size]
            # index_select, not images[idx]: on a CPU the advanced-indexing gather is about 10x slower
            yield self.images.index_select(0, idx), self.labels.index_select(0, idx)

    def n_batches(self, batch_size: int, drop_last: bool = False) -> int:
        return len(self) // batch_size if drop_last else -(-len(self) // batch_size)
