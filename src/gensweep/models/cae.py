"""Convolutional autoencoder: deterministic latent, mean-squared-error reconstruction.

A CAE has no prior to sample from, so new images come from an ex-post density: a Gaussian mixture fitted to
the latent codes of the training images it saw last (Ghosh et al. 2020, 10 full-covariance components;
models/expost.py). On Fashion-MNIST it took the CAE's FID after 20 epochs from 70 (a diagonal Gaussian) to
about 17 (docs/models.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from gensweep import checks
from gensweep.models.autoencoder import ConvAutoencoder
from gensweep.models.expost import LatentMixture


class CAE(ConvAutoencoder):
    name = "cae"
    train_metrics = ("loss",)
    val_metrics = ("loss",)
    curves = (("MSE per pixel", ("train_loss", "val_loss")),)

    def __init__(self, *, gmm_components: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mixture = LatentMixture(self.z_dim, gmm_components, self.device)

    @classmethod
    def check_keys(cls, model: Mapping[str, Any]) -> None:
        checks.positive_int("model.gmm_components", model["gmm_components"], "10")
        super().check_keys(model)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.autocast():
            z = self.nets["encoder"](x)
            loss = F.mse_loss(torch.sigmoid(self.nets["decoder"](z)), x)
        self.optimize("adam", loss)
        self.mixture.add(z)
        return {"loss": loss.detach()}

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": F.mse_loss(self.reconstruct(x), x)}

    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.mixture.draw(z))
