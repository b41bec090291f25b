"""WGAN-GP (Gulrajani et al., 2017): the WGAN critic objective plus penalty * (||grad critic(x_hat)|| - 1)^2
on random real/fake interpolates, without the clipped WGAN's warm-up, Adam, no batch norm in the critic
(layer norm in a conv critic, none in the MLP one). conf/model/wgan_gp.yaml departs from the authors'
gan_mnist.py in two measured ways (docs/notes/recipes.md): Adam 4e-4 (0.5, 0.999), the MLP GAN's settings, instead
of 1e-4 (0.5, 0.9), with which the samples missed sandals until epoch 15 on Fashion-MNIST; and one critic step
per generator step rather than 5 (FID 25.3 after 20 epochs against 36.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from gensweep import checks
from gensweep.models.wgan import Wasserstein


class WGANGP(Wasserstein):
    name = "wgan_gp"
    d_norm = "layer"

    def __init__(self, *, penalty: float, betas: tuple[float, float], **kwargs) -> None:
        super().__init__(**kwargs)
        self.penalty = float(penalty)
        self.betas = tuple(betas)

    @classmethod
    def check_keys(cls, model: Mapping[str, Any]) -> None:
        checks.non_negative_float("model.penalty", model["penalty"], "10")
        checks.betas("model.betas", model["betas"])
        super().check_keys(model)

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.lr, betas=self.betas)

    def compilable(self) -> list[str]:
        """The critic is differentiated twice (the penalty), which torch.compile does not support."""
        return ["generator"]

    def d_regulariser(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None, critic: nn.Module
    ) -> torch.Tensor:
        alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        out = critic(mixed, labels)
        if self.scaler is None:
            (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
        else:  # float16: differentiate the scaled output so the penalty's gradients do not underflow
            (scaled,) = torch.autograd.grad(self.scaler.scale(out.sum()), mixed, create_graph=True)
            grad = scaled / self.scaler.get_scale()
        return self.penalty * (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()
