"""An independent divergence probe: neural-network divergences between a model's samples and the data.

Gulrajani, Raffel & Metz (ICLR 2019, "Towards GAN benchmarks which require generalization") estimate a
divergence by training a critic of fixed architecture, for a fixed budget, to tell real images from a
model's samples, and reading its objective on data it was not trained on. gensweep does the same at every
FID evaluation, for every model alike: two fresh critics (the same architecture, seed and budget for every
model on a dataset) train on a random sample of training images against the model's samples, then score
held-out images against fresh samples:

- `probe_jsd`: the logistic critic's held-out loss L = BCE(D(real), 1) + BCE(D(fake), 0) gives the
  Jensen-Shannon lower bound log 2 - L / 2 (nats; Goodfellow et al. 2014, theorem 1);
- `probe_emd`: a gradient-penalty critic f (Gulrajani et al. 2017, penalty 10) gives the Wasserstein-1 lower
  bound (mean f(real) - mean f(fake)) / K, in the L2 norm of [0, 1] pixels, where K is f's largest gradient
  norm over the held-out images and interpolates between them (Kantorovich-Rubinstein: f / K is 1-Lipschitz
  there).

Both are lower bounds, as tight as the critic and its budget allow, and noisy: held-out scores of real
training images against real held-out images give their noise floor (docs/metrics.md). They are not
clipped at zero, so that the noise shows. With a small budget the critic cannot tell the training set from
held-out data, so a model that copied its training images would score near that floor; the paper shows
that only a larger critic budget penalises such memorisation.

The critics train in a forked random stream seeded by the run's seed: training is unchanged by the probe.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf

from gensweep.columns import QUALITY
from gensweep.data.tensors import ImageTensors
from gensweep.metrics.references import HELD_OUT, PROBE_TRAIN, generate, reference_indices
from gensweep.models.base import GenerativeModel

LOG2 = math.log(2.0)
LABELS = {name: label for name, label, _ in QUALITY}
PENALTY_SHARE = 4  # the gradient penalty is taken on one pair in this many


def critic(channels: int, size: int, width: int) -> nn.Sequential:
    """Two stride-2 convolutions (width, 2 * width channels, LeakyReLU 0.2) and a linear read-out; no
    normalisation, which a gradient penalty needs and the logistic critic does not miss."""
    after = size // 4
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(2 * width * after * after, 1),
    )


class DivergenceProbe:
    """probe_jsd and probe_emd of a model's samples against the dataset's held-out images."""

    columns = ("probe_jsd", "probe_emd")
    curves = tuple((LABELS[c], (c,)) for c in ("probe_emd", "probe_jsd"))  # curves.png's panels

    def __init__(self, cfg: DictConfig, full_train: ImageTensors, val: ImageTensors, device: torch.device) -> None:
        self.steps = int(cfg.steps)
        self.batch_size = int(cfg.batch_size)
        self.width = int(cfg.width)
        self.lr = float(cfg.lr)
        self.penalty = float(cfg.penalty)
        self.device = device
        self.n_train = min(int(cfg.n_train), len(full_train))
        self.n_test = min(int(cfg.n_test), len(val))
        self.shape = full_train.shape
        self.real_train = full_train.images[reference_indices(len(full_train), self.n_train, PROBE_TRAIN)]
        self.real_test = val.images[reference_indices(len(val), self.n_test, HELD_OUT)]

    def __call__(self, model: GenerativeModel, seed: int) -> dict[str, float]:
        """Train both critics on the references against model samples drawn with `seed`; score on fresh ones."""
        fake = generate(model, self.n_train + self.n_test, seed)
        return self.measure(fake[: self.n_train], fake[self.n_train :], seed)

    def measure(self, fake_train: torch.Tensor, fake_test: torch.Tensor, seed: int) -> dict[str, float]:
        """The probe on given [0, 1] (or uint8) images standing for the model's: train on `fake_train`, score
        on `fake_test` (real images here give the noise floor, shifted ones a known distance)."""
        real_train, real_test = _unit(self.real_train, self.device), _unit(self.real_test, self.device)
        fake_train, fake_test = _unit(fake_train, self.device), _unit(fake_test, self.device)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.enable_grad():
            torch.manual_seed(seed)
            logistic = critic(self.shape[0], self.shape[1], self.width).to(self.device)
            wasserstein = critic(self.shape[0], self.shape[1], self.width).to(self.device)
            opt_l = torch.optim.Adam(logistic.parameters(), lr=self.lr, betas=(0.5, 0.9))
            opt_w = torch.optim.Adam(wasserstein.parameters(), lr=self.lr, betas=(0.5, 0.9))
            for _ in range(self.steps):
                real = real_train[torch.randint(len(real_train), (self.batch_size,), device=self.device)]
                fake = fake_train[torch.randint(len(fake_train), (self.batch_size,), device=self.device)]
                _step(opt_l, _logistic_loss(logistic(real), logistic(fake)))
                _step(opt_w, _wasserstein_loss(wasserstein, real, fake, self.penalty))
            lipschitz = _largest_gradient(wasserstein, real_test, fake_test)
        with torch.no_grad():
            loss = _logistic_loss(_scores(logistic, real_test), _scores(logistic, fake_test))
            gap = _scores(wasserstein, real_test).mean() - _scores(wasserstein, fake_test).mean()
        return {"probe_jsd": LOG2 - float(loss) / 2.0, "probe_emd": float(gap) / lipschitz}


def real_floor(
    cfg: DictConfig, full_train: ImageTensors, val: ImageTensors, device: torch.device, seed: int
) -> dict[str, float]:
    """The probe with real images in place of a model's: training images apart from its references against
    held-out images apart from its own, so both sides are real data (the noise floor every figure is read
    against). A split too small for two disjoint halves of the budget gets halved references."""
    n_train, n_test = min(int(cfg.n_train), len(full_train) // 2), min(int(cfg.n_test), len(val) // 2)
    probe = DivergenceProbe(OmegaConf.merge(cfg, {"n_train": n_train, "n_test": n_test}), full_train, val, device)
    return probe.measure(*real_stand_ins(full_train, val, n_train, n_test), seed)


def real_stand_ins(
    full_train: ImageTensors, val: ImageTensors, n_train: int, n_test: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real images to stand for a model's: the n_train training and n_test held-out images that come right
    after the probe's references in their random draws, so none of them is a reference."""
    return (
        full_train.images[reference_indices(len(full_train), len(full_train), PROBE_TRAIN)[n_train : 2 * n_train]],
        val.images[reference_indices(len(val), len(val), HELD_OUT)[n_test : 2 * n_test]],
    )


def _unit(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    images = images.to(device)
    return images.float() / 255 if images.dtype == torch.uint8 else images.float()


def _step(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _logistic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )


def _wasserstein_loss(net: nn.Module, real: torch.Tensor, fake: torch.Tensor, penalty: float) -> torch.Tensor:
    """The critic's loss mean f(fake) - mean f(real) plus penalty * E(||grad f(x_hat)|| - 1)^2 on random
    interpolates x_hat of real and fake images (Gulrajani et al. 2017), taken on a quarter of the batch's
    pairs: the double backward is most of a step's cost, and at a fixed time budget more steps with this
    penalty halved the probe's spread over seeds on Fashion-MNIST (docs/metrics.md)."""
    n, k = len(real), max(1, len(real) // PENALTY_SHARE)
    mix = torch.rand(k, 1, 1, 1, device=real.device)
    x_hat = (mix * real[:k] + (1 - mix) * fake[:k]).requires_grad_(True)
    out = net(torch.cat([real, fake, x_hat]))
    f_real, f_fake, f_hat = out[:n], out[n : 2 * n], out[2 * n :]
    (grad,) = torch.autograd.grad(f_hat.sum(), x_hat, create_graph=True)
    gp = (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
    return f_fake.mean() - f_real.mean() + penalty * gp


def _largest_gradient(net: nn.Module, real: torch.Tensor, fake: torch.Tensor, batch_size: int = 500) -> float:
    """The critic's largest input-gradient norm over the held-out images and interpolates between them: its
    Lipschitz constant where the estimate reads it. The penalty holds gradients near 1 only softly (a critic
    that is linear along the transport with slope g pays 10 (g - 1)^2 and gains g W, so it settles at
    g = 1 + W / 20 and overstates W by W^2 / 20); dividing by it keeps the estimate a Wasserstein-1 bound."""
    n = min(len(real), len(fake))
    mix = torch.rand(n, 1, 1, 1, device=real.device)
    points = torch.cat([real[:n], fake[:n], mix * real[:n] + (1 - mix) * fake[:n]])
    largest = 0.0
    for i in range(0, len(points), batch_size):
        x = points[i : i + batch_size].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(net(x).sum(), x)
        largest = max(largest, float(grad.flatten(1).norm(dim=1).max()))
    return largest


@torch.no_grad()
def _scores(net: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    return torch.cat([net(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])
