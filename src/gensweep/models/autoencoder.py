"""Shared body of the VAE and the CAE: a conv encoder to a latent vector and a conv decoder back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from gensweep import checks
from gensweep.models.base import GenerativeModel
from gensweep.models.nets import ConvDecoder, ConvEncoder


class ConvAutoencoder(GenerativeModel):
    """Encoder = the DCGAN discriminator body; decoder = the DCGAN generator with logits out."""

    value_range = "unit"
    curves = (("loss", ("train_loss", "val_loss")),)
    latent_outputs = 1  # how many z_dim-sized vectors the encoder emits (VAE: mean and log-variance)

    def __init__(self, *, betas: tuple[float, float], **common) -> None:
        super().__init__(**common)
        self.betas = tuple(betas)
        shape, depth, width = self.image_shape, self.n_layers, self.width
        self.nets["encoder"] = ConvEncoder(shape, self.latent_outputs * self.z_dim, depth, width).to(self.device)
        self.nets["decoder"] = ConvDecoder(shape, self.z_dim, depth, width, out_activation="none").to(self.device)

    @classmethod
    def check_keys(cls, model: Mapping[str, Any]) -> None:
        checks.betas("model.betas", model["betas"])
        super().check_keys(model)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(self.nets.parameters(), lr=self.lr, betas=self.betas)}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The latent code used for reconstructions and interpolations (the mean for a VAE)."""
        return self.nets["encoder"](x)[:, : self.z_dim]

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.nets["decoder"](z))
