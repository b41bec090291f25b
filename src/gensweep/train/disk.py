"""What a run writes to its folder, added up before its first step: the run's own space check (a run refuses
to start on a disk with less free space) and tools/disk_use.py's figures for whole studies use the same sum."""

from __future__ import annotations

from gensweep.models.base import GenerativeModel


def draws_grid(epoch: int, n_epochs: int, sample_every: int) -> bool:
    """A run saves a sample grid every `trainer.sample_every` epochs and at its last one."""
    return epoch % sample_every == 0 or epoch == n_epochs


def bytes_to_write(
    model: GenerativeModel, shape: tuple[int, int, int], n_epochs: int, sample_every: int, resume: bool
) -> dict[str, int]:
    """At most what a run writes, part by part: a new checkpoint beside the last good one (weights, Adam's two
    moments and an averaged copy: 16 bytes a parameter), each sample grid at its raw size (PNG compresses it),
    the final images, and the logs. A resumed run has fewer epochs left: the sum over all of them bounds it."""
    state = 16 * model.n_parameters()
    c, h, w = shape
    z, _, _ = model.sample_inputs(None)
    grid = len(z) * c * (h + 2) * (w + 2)
    grids = sum(draws_grid(e, n_epochs, sample_every) for e in range(1, n_epochs + 1))
    return {
        "checkpoints": state if resume else 2 * state,
        "sample grids": grids * grid,
        "final images": 4 * grid,
        "logs": 100_000 + 10_000 * n_epochs,
    }
