"""WGAN with weight clipping (Arjovsky et al., 2017): RMSprop, critic weights clipped to [-clip, clip] after
every critic step, n_critic critic steps per generator step, and the paper's critic warm-up schedule
(`critic_steps`). Defaults (conf/model/wgan.yaml): clip 0.01 as the paper; batch norm in G as its DCGAN
generator; lr 2e-4 rather than 5e-5, one critic step per generator step rather than 5 (the 1:1 schedule of
Heusel et al. 2017's two time-scale rule), and no warm-up: at the paper's schedule the generator makes a
fifth of the steps, and on Fashion-MNIST it ends 20 epochs at FID 38 (29.7 after 50) instead of 27.6
(docs/models.md). `model.n_critic=5` gives the paper's schedule back.

The critic's held-out objective gives the estimated Earth-Mover distance:
EMD ~= mean critic(real) - mean critic(fake), i.e. minus the validation critic loss.
"""
from __future__ import annotations

import torch

from gensweep.models.adversarial import Adversarial


class Wasserstein(Adversarial):
    """What the two WGANs share: the critic's objective, the generator's, and the EMD estimate they give."""

    arch = "mlp"
    estimate_names = ("emd",)
    curves = (("estimated EMD", ("emd",)), ("loss", ("train_loss_d", "train_loss_g")),
              ("mean critic on real, fake", ("train_d_real", "train_d_fake")))

    def __init__(self, *, n_critic: int = 5, **kwargs) -> None:
        super().__init__(d_steps=n_critic, **kwargs)

    def d_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        return d_fake.mean() - d_real.mean()

    def g_loss(self, d_fake: torch.Tensor) -> torch.Tensor:
        return -d_fake.mean()

    def estimates(self, val: dict[str, float]) -> dict[str, float]:
        return {"emd": -val["loss_d"]}


class WGAN(Wasserstein):
    name = "wgan"

    def __init__(self, *, clip: float = 0.01, warmup_g_steps: int = 25, warmup_critic_steps: int = 100,
                 refresh_every: int = 500, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clip = float(clip)
        self.warmup_g_steps = int(warmup_g_steps)
        self.warmup_critic_steps = int(warmup_critic_steps)
        self.refresh_every = int(refresh_every)
        self.after_d_step()  # start inside the clipping box as well

    def critic_steps(self, g_steps: int) -> int:
        """The WGAN paper's schedule: warmup_critic_steps (100) critic updates before each of the first
        warmup_g_steps (25) generator updates and before every refresh_every-th (500th), n_critic otherwise,
        so the critic is close to optimal whenever its EMD estimate is read (0 turns either part off)."""
        warm = g_steps < self.warmup_g_steps or (self.refresh_every > 0 and g_steps % self.refresh_every == 0)
        return self.warmup_critic_steps if warm else self.d_steps

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(params, lr=self.lr)

    @torch.no_grad()
    def after_d_step(self) -> None:
        for p in self.nets["discriminator"].parameters():
            p.clamp_(-self.clip, self.clip)
