"""Shared body of the VAE and the CAE: a conv encoder to a latent vector and a conv decoder back."""
from __future__ import annotations

import torch

from gensweep.models.base import GenerativeModel
from gensweep.models.nets import ConvDecoder, ConvEncoder


class ConvAutoencoder(GenerativeModel):
    """Encoder = the DCGAN discriminator body; decoder = the DCGAN generator with logits out."""

    value_range = "unit"
    curves = (("loss", ("train_loss", "val_loss")),)
    latent_outputs = 1  # how many z_dim-sized vectors the encoder emits (VAE: mean and log-variance)

    def __init__(self, *, betas: tuple[float, float] = (0.9, 0.999), **common) -> None:
        super().__init__(**common)
        c = self
        self.nets["encoder"] = ConvEncoder(c.image_shape, c.latent_outputs * c.z_dim, c.n_layers, c.width).to(c.device)
        self.nets["decoder"] = ConvDecoder(c.image_shape, c.z_dim, c.n_layers, c.width, out_activation="none").to(c.device)
        params = [p for net in self.nets.values() for p in net.parameters()]
        self.optims["adam"] = torch.optim.Adam(params, lr=c.lr, betas=tuple(betas))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The latent code used for reconstructions and interpolations (the mean for a VAE)."""
        return self.nets["encoder"](x)[:, : self.z_dim]

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.nets["decoder"](z))
