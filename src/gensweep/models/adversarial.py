"""Shared training step of the GAN family: k discriminator (critic) steps per generator step.

Each `train_step` call is one discriminator step on a fresh real batch; once `critic_steps(...)` of them have
run since the last generator update, the call also updates the generator, as in Goodfellow et al.'s
Algorithm 1 and the WGAN papers' n_critic loop. Subclasses choose the losses, the optimizer, the
initialisation, what happens after a discriminator step and how many of them each generator step waits for.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator, Mapping
from typing import Any

import torch
import torch.nn as nn

from gensweep import checks
from gensweep.models.base import GenerativeModel
from gensweep.models.nets import build_discriminator, build_generator

# Noise the averaged generator's batch-norm statistics are measured on: 4,096 draws, in batches of 256
STANDING_BATCHES, STANDING_BATCH_SIZE = 16, 256


class Adversarial(GenerativeModel):
    value_range = "symmetric"
    # d_real / d_fake: the discriminator's mean output on real and on generated images, the first thing to read
    # when a GAN collapses (D wins: real near 1 and fake near 0, the generator's gradient vanishes)
    train_metrics = ("loss_d", "loss_g", "d_real", "d_fake")
    val_metrics = ("loss_d", "loss_g", "d_real", "d_fake")
    d_norm = "batch"  # normalisation inside a conv discriminator

    def __init__(
        self,
        *,
        arch: str,
        d_steps: int,
        dropout: float,
        ema: float,
        g_norm: str,
        lr_width_ref: int | None,
        minibatch_std: bool,
        estimate_steps: int,
        **common,
    ) -> None:
        super().__init__(**common)
        self.arch = arch
        if lr_width_ref and self.arch == "mlp":
            # `lr` is the rate at width lr_width_ref; narrower MLPs take larger steps, wider ones smaller. Adam-
            # type rates of hidden layers scale inversely with width (muP, Yang et al. 2021); the square root is
            # what gensweep measured on Fashion-MNIST at widths 32-256 (docs/notes/recipes.md).
            self.lr = self.lr * math.sqrt(lr_width_ref / self.width)
        self.ema = float(ema)
        self.d_steps = int(d_steps)
        self.estimate_steps = int(estimate_steps)
        # (critic, generator) the held-out estimate is read from, when not D and G as trained (see `estimating`)
        self.reading: tuple[nn.Module, nn.Module] | None = None
        self.g_steps = 0  # generator updates so far
        self.d_since_g = 0  # discriminator updates since the last generator update
        self.stats_at = -1  # g_steps at which the averaged generator's batch-norm statistics were last measured
        n_classes = self.n_classes if self.conditional else 0
        shape, depth, width = self.image_shape, self.n_layers, self.width
        self.nets["generator"] = build_generator(
            self.arch, shape, self.z_dim, depth, width, "tanh", n_classes, g_norm
        ).to(self.device)
        self.nets["discriminator"] = build_discriminator(
            self.arch, shape, depth, width, self.d_norm, n_classes, float(dropout), bool(minibatch_std)
        ).to(self.device)
        self.init_weights()
        if self.ema > 0:  # a frozen copy that trails the generator's weights; it draws every sample
            self.nets["generator_ema"] = copy.deepcopy(self.nets["generator"]).requires_grad_(False).eval()

    @classmethod
    def check_keys(cls, model: Mapping[str, Any]) -> None:
        if "d_steps" in model:  # the Wasserstein models give it as n_critic
            checks.positive_int("model.d_steps", model["d_steps"], "1")
        checks.fraction("model.dropout", model["dropout"], "a probability", "0.3")
        checks.fraction("model.ema", model["ema"], "the average's decay", "0.999")
        checks.one_of("model.g_norm", model["g_norm"], {"batch": "", "none": ""})
        if model["lr_width_ref"] is not None:
            checks.positive_int("model.lr_width_ref", model["lr_width_ref"], "256")
        checks.boolean("model.minibatch_std", model["minibatch_std"])
        checks.non_negative_int("model.estimate_steps", model["estimate_steps"])
        super().check_keys(model)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {name: self.make_optimizer(self.nets[name].parameters()) for name in ("generator", "discriminator")}

    # --- what subclasses choose -------------------------------------------------------------------------
    def make_optimizer(self, params) -> torch.optim.Optimizer:
        raise NotImplementedError

    def init_weights(self) -> None:
        """PyTorch's default initialisation unless a subclass follows its paper's."""

    def critic_steps(self, g_steps: int) -> int:
        """Discriminator updates before generator update number `g_steps` + 1 (WGAN: its paper's warm-up)."""
        return self.d_steps

    def schedule_warning(self, n_batches: int) -> str | None:
        """Why the next `n_batches` training steps would leave the generator untrained, or None."""
        g, since = self.g_steps, self.d_since_g
        for _ in range(n_batches):
            since += 1
            if since >= self.critic_steps(g):
                return None
        need = self.critic_steps(g) - self.d_since_g
        return (
            f"the generator makes no step in this run: its next step comes after {need} discriminator steps "
            f"(one per batch) and the run has {n_batches} batches left; raise n_epochs or dataset.subset, lower "
            "batch_size or model.n_critic" + (" or model.warmup_critic_steps" if need > self.d_steps else "")
        )

    def d_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, d_fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def d_regulariser(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None, critic: nn.Module
    ) -> torch.Tensor | None:
        """Extra discriminator loss used in training only (WGAN-GP's gradient penalty)."""
        return None

    def after_d_step(self, critic: nn.Module) -> None:
        """Hook after each update of `critic` (WGAN's weight clipping)."""

    def d_score(self, out: torch.Tensor) -> torch.Tensor:
        """The discriminator's raw output as the number logged in d_real / d_fake (the critic's value here; the
        GAN's probability of "real")."""
        return out

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
            d_real, d_fake = d(x, labels), d(fake, labels)
            loss_d = self.d_loss(d_real, d_fake)
            reg = self.d_regulariser(x, fake, labels, d)
        self.optimize("discriminator", loss_d if reg is None else loss_d + reg)
        self.after_d_step(d)
        out = {"loss_d": loss_d.detach(), "d_real": self._mean_score(d_real), "d_fake": self._mean_score(d_fake)}
        self.d_since_g += 1
        if self.d_since_g >= self.critic_steps(self.g_steps):
            with self.autocast():
                loss_g = self.g_loss(d(g(self._noise(n), labels), labels))
            self.optimize("generator", loss_g)
            out["loss_g"] = loss_g.detach()
            self.g_steps += 1
            self.d_since_g = 0
            if self.ema > 0:
                self._update_average()
        return out

    def _mean_score(self, out: torch.Tensor) -> torch.Tensor:
        return self.d_score(out.detach().float()).mean()

    @torch.no_grad()
    def _update_average(self) -> None:
        """Exponential moving average of the generator's weights (Yazici et al., 2019), with the decay ramped
        up as min(ema, (1 + t) / (10 + t)) so that the first epochs' average is not dominated by the start."""
        decay = min(self.ema, (1.0 + self.g_steps) / (10.0 + self.g_steps))
        g, avg = self.nets["generator"], self.nets["generator_ema"]
        torch._foreach_lerp_(list(avg.parameters()), list(g.parameters()), 1.0 - decay)

    @torch.no_grad()
    def _measure_average_statistics(self) -> None:
        """Batch-norm statistics of the averaged generator, measured on its own activations ("standing
        statistics", Brock et al. 2019): the trained generator's running statistics belong to other weights,
        and sampling the average with them cost the MLP GANs 3 to 6 FID points on Fashion-MNIST and most of
        their sandals (docs/notes/recipes.md). Fixed noise from a private generator: training's random stream and
        the samples of a resumed run stay what they would have been."""
        avg = self.nets["generator_ema"]
        norms = [m for m in avg.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if norms and self.stats_at != self.g_steps:
            gen = torch.Generator().manual_seed(0)
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a plain average over the batches below
            avg.train()
            for _ in range(STANDING_BATCHES):
                z = torch.randn(STANDING_BATCH_SIZE, self.z_dim, generator=gen).to(self.device)
                # drawn for every model (all zeros on a set without labels), so that each batch's noise is the same
                labels = torch.randint(max(self.n_classes, 1), (STANDING_BATCH_SIZE,), generator=gen).to(self.device)
                avg(z, labels if self.conditional else None)
            avg.eval()
        self.stats_at = self.g_steps

    def train(self, mode: bool = True) -> Adversarial:
        super().train(mode)
        if "generator_ema" in self.nets:
            self.nets["generator_ema"].eval()  # never trained: it samples with batch norm's running statistics
        return self

    def compilable(self) -> list[str]:
        return [name for name in self.nets if name != "generator_ema"]

    @contextlib.contextmanager
    def estimating(self, batches: Iterator[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[None]:
        """With `estimate_steps` > 0, the held-out estimate is read from a copy of the discriminator that has
        taken that many more steps (its own loss, optimizer state, regulariser and clipping) on training
        batches against the samples the model draws (the averaged generator's, where there is one, as the
        sample grids, FID and the probe). A divergence estimate is the critic's value only near the critic's
        optimum, which one step per generator step never reaches; the WGAN paper brings its critic there with
        100-step refreshes (Arjovsky et al., 2017, Algorithm 1 and Figure 3) that also change training. The
        copy gives the curve that optimum while training keeps its own schedule."""
        if self.estimate_steps == 0:
            yield
            return
        if "generator_ema" in self.nets:
            self._measure_average_statistics()
            g = self.nets["generator_ema"]
        else:
            g = self.nets["generator"]
        critic = copy.deepcopy(self.nets["discriminator"]).train()
        opt = self.make_optimizer(critic.parameters())
        opt.load_state_dict(copy.deepcopy(self.optims["discriminator"].state_dict()))  # its tensors, not shared
        for _, (x, y) in zip(range(self.estimate_steps), batches):
            labels = self._labels(y)
            with torch.no_grad():
                fake = g(self._noise(x.shape[0]), labels)
            with torch.enable_grad():
                loss = self.d_loss(critic(x, labels), critic(fake, labels))
                reg = self.d_regulariser(x, fake, labels, critic)
                opt.zero_grad(set_to_none=True)
                (loss if reg is None else loss + reg).backward()
            opt.step()
            self.after_d_step(critic)
        self.reading = (critic.eval(), g)
        try:
            yield
        finally:
            self.reading = None

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        labels = self._labels(y)
        critic, g = self.reading or (self.nets["discriminator"], self.nets["generator"])
        return self.evaluate_pair(critic, x, g(self._noise(x.shape[0]), labels), labels)

    def evaluate_pair(
        self, d: nn.Module, x: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        d_real, d_fake = d(x, labels), d(fake, labels)
        return {
            "loss_d": self.d_loss(d_real, d_fake),
            "loss_g": self.g_loss(d_fake),
            "d_real": self._mean_score(d_real),
            "d_fake": self._mean_score(d_fake),
        }

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples come from the averaged generator when there is one, else from the trained one."""
        if "generator_ema" not in self.nets:
            return self.to_unit(self.nets["generator"](z, labels))
        self._measure_average_statistics()
        return self.to_unit(self.nets["generator_ema"](z, labels))

    def get_extra_state(self) -> dict[str, Any]:
        """The step counters, which state_dict then carries (the WGAN's critic schedule depends on them)."""
        return {"g_steps": self.g_steps, "d_since_g": self.d_since_g}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.g_steps = int(state["g_steps"])
        self.d_since_g = int(state["d_since_g"])
        self.stats_at = -1
