"""Convolutional autoencoder: deterministic latent, mean-squared-error reconstruction.

A CAE has no prior to sample from, so new images come from a diagonal Gaussian fitted to the latent codes
it saw in training (a running mean and variance): the ex-post density of Ghosh et al. (2020), in its
simplest form.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gensweep.models.autoencoder import ConvAutoencoder


class CAE(ConvAutoencoder):
    name = "cae"
    train_metrics = ("loss",)
    val_metrics = ("loss",)
    curves = (("MSE per pixel", ("train_loss", "val_loss")),)
    latent_momentum = 0.05

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.latent_mean = torch.zeros(self.z_dim, device=self.device)
        self.latent_var = torch.ones(self.z_dim, device=self.device)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.autocast():
            z = self.nets["encoder"](x)
            loss = F.mse_loss(torch.sigmoid(self.nets["decoder"](z)), x)
        self.optimize("adam", loss)
        with torch.no_grad():
            m = self.latent_momentum
            z = z.float()
            self.latent_mean.lerp_(z.mean(0), m)
            self.latent_var.lerp_(z.var(0, unbiased=False), m)
        return {"loss": loss.detach()}

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": F.mse_loss(self.reconstruct(x), x)}

    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Map standard-normal z through the fitted latent Gaussian, then decode."""
        return self.decode(self.latent_mean + z * self.latent_var.sqrt())

    def extra_state(self) -> dict[str, Any]:
        return {"latent_mean": self.latent_mean, "latent_var": self.latent_var}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.latent_mean.copy_(state["latent_mean"])
        self.latent_var.copy_(state["latent_var"])
