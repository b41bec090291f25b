"""Shared training step of the GAN family: k discriminator (critic) steps per generator step.

Each `train_step` call is one discriminator step on a fresh real batch; every `d_steps`-th call also
updates the generator, as in Goodfellow et al.'s Algorithm 1 and the WGAN papers' n_critic loop.
Subclasses choose the losses, the optimizer and what happens after a discriminator step.
"""
from __future__ import annotations

from typing import Any

import torch

from gensweep.models.base import GenerativeModel
from gensweep.models.nets import ARCHS, build_discriminator, build_generator


class Adversarial(GenerativeModel):
    value_range = "symmetric"
    train_metrics = ("loss_d", "loss_g")
    val_metrics = ("loss_d", "loss_g")
    d_norm = "batch"  # normalisation inside a conv discriminator

    def __init__(self, *, arch: str = "mlp", d_steps: int = 1, **common) -> None:
        super().__init__(**common)
        if arch not in ARCHS:
            raise ValueError(f"model.arch={arch!r}: use one of {', '.join(ARCHS)}")
        if int(d_steps) < 1:
            raise ValueError(f"discriminator steps per generator step must be >= 1, got {d_steps}")
        self.arch = arch
        self.d_steps = int(d_steps)
        self.d_calls = 0
        n_cls = self.n_classes if self.conditional else 0
        c = self
        self.nets["generator"] = build_generator(arch, c.image_shape, c.z_dim, c.n_layers, c.width, "tanh", n_cls).to(c.device)
        self.nets["discriminator"] = build_discriminator(arch, c.image_shape, c.n_layers, c.width, c.d_norm, n_cls).to(c.device)
        self.init_weights()
        self.optims["generator"] = self.make_optimizer(self.nets["generator"].parameters())
        self.optims["discriminator"] = self.make_optimizer(self.nets["discriminator"].parameters())

    # --- what subclasses choose -------------------------------------------------------------------------
    def make_optimizer(self, params) -> torch.optim.Optimizer:
        raise NotImplementedError

    def init_weights(self) -> None:
        """PyTorch's default initialisation unless a subclass follows its paper's."""

    def d_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, d_fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def d_regulariser(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
        """Extra discriminator loss used in training only (WGAN-GP's gradient penalty)."""
        return None

    def after_d_step(self) -> None:
        """Hook after each discriminator update (WGAN's weight clipping)."""

    # --- the shared step --------------------------------------------------------------------------------
    def _labels(self, y: torch.Tensor) -> torch.Tensor | None:
        return y.to(self.device, non_blocking=True) if self.conditional else None

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        g, d = self.nets["generator"], self.nets["discriminator"]
        labels = self._labels(y)
        n = x.shape[0]
        with self.autocast():
            with torch.no_grad():
                fake = g(self._noise(n), labels)
            loss_d = self.d_loss(d(x, labels), d(fake, labels))
            reg = self.d_regulariser(x, fake, labels)
        self.optimize("discriminator", loss_d if reg is None else loss_d + reg)
        self.after_d_step()
        out = {"loss_d": loss_d.detach()}
        self.d_calls += 1
        if self.d_calls % self.d_steps == 0:
            with self.autocast():
                loss_g = self.g_loss(d(g(self._noise(n), labels), labels))
            self.optimize("generator", loss_g)
            out["loss_g"] = loss_g.detach()
        return out

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        g, d = self.nets["generator"], self.nets["discriminator"]
        labels = self._labels(y)
        d_fake = d(g(self._noise(x.shape[0]), labels), labels)
        return {"loss_d": self.d_loss(d(x, labels), d_fake), "loss_g": self.g_loss(d_fake)}

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.to_unit(self.nets["generator"](z, labels))

    def extra_state(self) -> dict[str, Any]:
        return {"d_calls": self.d_calls}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.d_calls = int(state["d_calls"])
