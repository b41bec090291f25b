"""The run spec: a run's settings, read once from the composed config (gensweep.config.validate builds it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch


@dataclass(frozen=True)
class RunSpec:
    """A run's settings, checked and resolved once from the composed config (n_layers=auto a number, device a
    torch.device): the data, the model, the trainer and the resume check all read them from here."""

    model: str  # the model class's name (gan, wgan, ...)
    dataset: str
    image_shape: tuple[int, int, int]
    n_classes: int
    z_dim: int
    n_layers: int
    width: int
    lr: float
    batch_size: int
    n_epochs: int
    seed: int
    metrics_every: int
    device: torch.device

    def on(self, device: torch.device) -> RunSpec:
        """The same settings on another device (a checkpoint is checked on the CPU)."""
        return replace(self, device=device)

    @property
    def identity(self) -> dict[str, Any]:
        """What a checkpoint must match to be continued by this run: the settings that shape the networks."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "image_shape": list(self.image_shape),
            "z_dim": self.z_dim,
            "n_layers": self.n_layers,
            "width": self.width,
        }

    @property
    def settings(self) -> str:
        """The network-shaping keys as the command line writes them, for messages."""
        return f"z_dim={self.z_dim} n_layers={self.n_layers} width={self.width}"
