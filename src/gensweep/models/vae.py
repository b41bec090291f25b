"""Variational autoencoder (Kingma & Welling, 2014) with conv encoder and decoder.

Loss = Bernoulli reconstruction (BCE summed over pixels) + KL(q(z|x) || N(0, I)), both per image, in nats:
the unit the literature quotes (about 105 on MNIST for pytorch/examples' VAE after 10 epochs).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gensweep.models.autoencoder import ConvAutoencoder


class VAE(ConvAutoencoder):
    name = "vae"
    latent_outputs = 2
    train_metrics = ("loss", "recon", "kl")
    val_metrics = ("loss", "recon", "kl")
    curves = (("loss (nats / image)", ("train_loss", "val_loss")), ("terms (nats / image)", ("train_recon", "train_kl")))

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.nets["encoder"](x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.nets["decoder"](z)
        n = x.shape[0]
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
        return {"loss": recon + kl, "recon": recon, "kl": kl}

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.autocast():
            out = self.losses(x)
        self.optimize("adam", out["loss"])
        return {k: v.detach() for k, v in out.items()}

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.losses(x)
