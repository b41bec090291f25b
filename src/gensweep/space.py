"""Whether a run's disk has room for what the run will write, checked before Hydra writes anything there."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from gensweep.config import validate
from gensweep.files import check_space
from gensweep.loggers import IMAGE_COPIES
from gensweep.models.build import model_outline
from gensweep.train.disk import bytes_to_write


def run_bytes(cfg: DictConfig, resume: bool) -> dict[str, int]:
    """bytes_to_write for the run `cfg` describes, its model outlined on the meta device at the dataset's image
    size (refused there if it cannot fit in memory; no weights drawn, no data loaded): what a single run checks
    for before it starts, and what a study's figure adds up."""
    spec = validate(cfg)
    model = model_outline(cfg, spec.on(torch.device("cpu")), spec.image_shape, spec.n_classes)
    copies = sum(str(name) in IMAGE_COPIES for name in cfg.logger)
    return bytes_to_write(model, spec.image_shape, spec.n_epochs, int(cfg.trainer.sample_every), resume, copies)


def check_run_space(cfg: DictConfig, run_dir: Path, resume: bool) -> None:
    """ConfigError (one line) when `run_dir`'s disk has less free space than the run will write."""
    check_space(run_dir, run_bytes(cfg, resume))
