"""GAN (Goodfellow et al., 2014) with the non-saturating generator loss; MLP networks by default.

Recipe (conf/model/gan.yaml): znxlwm's pytorch-MNIST-CelebA-GAN-CGAN MLP GAN (pytorch_MNIST_GAN.py): G
256-512-1024, D 1024-512-256 with dropout 0.3, LeakyReLU 0.2, Adam (0.5, 0.999) at 4e-4 rather than its
2e-4 (measured: docs/notes/recipes.md), batch 128, one D step then one G step per batch; with batch norm in G
(PyTorch-GAN's gan.py, DCGAN's generator), DCGAN's N(0, 0.02) initialisation (Radford et al., 2016) and
samples from an exponential moving average of G's weights (Yazici et al., 2019) with batch-norm statistics
measured on the average's own activations (standing statistics, Brock et al., 2019). On Fashion-MNIST each
addition lowers FID (docs/notes/recipes.md).

The discriminator's held-out loss L_D = BCE(D(x), 1) + BCE(D(G(z)), 0) gives the estimated Jensen-Shannon
divergence JSD ~= log 2 - L_D / 2 (theorem 1 of the paper): a lower bound, tight only for an optimal D.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from gensweep import checks
from gensweep.models.adversarial import Adversarial

LOG2 = math.log(2.0)


class GAN(Adversarial):
    name = "gan"
    arch = "mlp"
    estimate_names = ("jsd",)
    curves = (
        ("estimated JSD (nats)", ("jsd",)),
        ("loss", ("train_loss_d", "train_loss_g")),
        ("mean D(x), D(G(z))", ("train_d_real", "train_d_fake")),
    )

    def __init__(self, *, betas: tuple[float, float], **kwargs) -> None:
        super().__init__(**kwargs)
        self.betas = tuple(betas)

    @classmethod
    def check_keys(cls, model: Mapping[str, Any]) -> None:
        checks.betas("model.betas", model["betas"])
        super().check_keys(model)

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.lr, betas=self.betas)

    def init_weights(self) -> None:
        """Every weight from N(0, 0.02), biases zero, batch-norm scales from N(1, 0.02) (DCGAN's init)."""
        for net in self.nets.values():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                    nn.init.normal_(m.weight, 0.0, 0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    nn.init.normal_(m.weight, 1.0, 0.02)
                    nn.init.zeros_(m.bias)

    def d_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy_with_logits(
            d_fake, torch.zeros_like(d_fake)
        )

    def g_loss(self, d_fake: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))

    def d_score(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out)  # D's logits -> its probability that the image is real

    def estimates(self, val: dict[str, float]) -> dict[str, float]:
        return {"jsd": min(max(LOG2 - val["loss_d"] / 2.0, 0.0), LOG2)}
