"""What a run writes to its folder, added up before its first step: the run's own space check (a run refuses
to start on a disk with less free space) and tools/disk_use.py's figures for whole studies use the same sum."""

from __future__ import annotations

from gensweep.models.base import GenerativeModel

CURVES_FIGURE = 300_000  # curves.png: a fixed-size matplotlib figure, 0.1-0.2 MB


def draws_grid(epoch: int, n_epochs: int, sample_every: int) -> bool:
    """A run saves a sample grid every `trainer.sample_every` epochs and at its last one."""
    return epoch % sample_every == 0 or epoch == n_epochs


def bytes_to_write(
    model: GenerativeModel,
    shape: tuple[int, int, int],
    n_epochs: int,
    sample_every: int,
    resume: bool,
    image_copies: int,
) -> dict[str, int]:
    """At most what a run writes, part by part: a new checkpoint beside the last good one (weights, Adam's two
    moments and an averaged copy: 16 bytes a parameter), each sample grid at its raw size (three channels, as
    a grid is saved, gray or not; PNG compresses it), the final images (the curves' figure and three grids'
    worth), the logs, and the copies of the images that `image_copies` trackers keep in the run folder
    (gensweep.loggers.IMAGE_COPIES). A resumed run has fewer epochs left: the sum over all of them bounds it."""
    state = 16 * model.n_parameters()
    _, h, w = shape
    z, _, _ = model.sample_inputs(None)
    grid = len(z) * 3 * (h + 2) * (w + 2)
    grids = sum(draws_grid(e, n_epochs, sample_every) for e in range(1, n_epochs + 1))
    final = CURVES_FIGURE + 3 * grid
    parts = {
        "checkpoints": state if resume else 2 * state,
        "sample grids": grids * grid,
        "final images": final,
        "logs": 100_000 + 10_000 * n_epochs,
    }
    if image_copies:
        parts["trackers' copies"] = image_copies * (grids * grid + final)
    return parts
