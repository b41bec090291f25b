"""Variational autoencoder (Kingma & Welling, 2014) with conv encoder and decoder.

Loss = Bernoulli reconstruction (BCE summed over pixels) + KL(q(z|x) || N(0, I)), both per image, in nats:
the unit the literature quotes (about 105 on MNIST for pytorch/examples' VAE after 10 epochs).

Samples (conf/model/vae.yaml: `model.sampler=prior`) decode z ~ N(0, I): the textbook VAE, as in
pytorch/examples' `vae/main.py`, and what the seed studies compare. `model.sampler=gmm` decodes draws from a
Gaussian mixture fitted to the encoder's means of the latest training images instead: Ghosh et al. 2020's
ex-post density estimation ("From Variational to Deterministic Autoencoders", models/expost.py), which keeps
samples out of the prior's "holes" the decoder never learned to fill. On Fashion-MNIST after 20 epochs it gave
FID 33 against 50 from the prior (docs/models.md). Training and the loss are the same either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from gensweep.models.autoencoder import ConvAutoencoder
from gensweep.models.expost import LatentMixture


class VAE(ConvAutoencoder):
    name = "vae"
    latent_outputs = 2
    train_metrics = ("loss", "recon", "kl")
    val_metrics = ("loss", "recon", "kl")
    curves = (
        ("loss (nats / image)", ("train_loss", "val_loss")),
        ("terms (nats / image)", ("train_recon", "train_kl")),
    )

    def __init__(self, *, sampler: str = "prior", gmm_components: int = 10, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mixture = LatentMixture(self.z_dim, gmm_components, self.device) if sampler == "gmm" else None

    def losses(self, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The loss terms per image, and the encoder's means (the codes an ex-post mixture is fitted to)."""
        mu, logvar = self.nets["encoder"](x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.nets["decoder"](z)
        n = x.shape[0]
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
        return {"loss": recon + kl, "recon": recon, "kl": kl}, mu

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.autocast():
            out, mu = self.losses(x)
        self.optimize("adam", out["loss"])
        if self.mixture is not None:
            self.mixture.add(mu)
        return {k: v.detach() for k, v in out.items()}

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.losses(x)[0]

    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z if self.mixture is None else self.mixture.draw(z))

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        """Weights saved with the other sampler load too, so that a run's samples can be scored either way: a
        prior-sampling VAE's checkpoint gives an empty mixture, which draws from the prior until training adds
        codes; a mixture's codes and fit are left out of a prior-sampling VAE."""
        state = {k: v for k, v in state_dict.items() if self.mixture is not None or not k.startswith("mixture.")}
        if self.mixture is not None and "mixture.codes" not in state:
            state.update({"mixture.codes": torch.zeros_like(self.mixture.codes), "mixture._extra_state": {"n_seen": 0}})
        return super().load_state_dict(state, strict, assign)
