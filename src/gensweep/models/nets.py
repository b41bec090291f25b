"""The networks every model is built from, and what `n_layers` and `width` mean for them.

- ``mlp``: `n_layers` hidden layers (LeakyReLU 0.2) whose widths double away from the latent side, capped at
  4 * width: a generator's are width, 2 * width, 4 * width, 4 * width, ... from z to the image (optionally
  each followed by batch norm), and a discriminator mirrors them from the image to its output (4 * width,
  2 * width, width at n_layers=3). At width 256 and n_layers 3 this is the classic MLP GAN pair
  G 256-512-1024, D 1024-512-256.
- ``conv``: `n_layers` resolution-halving stages (4x4 kernels, stride 2). Stage i of an encoder or
  discriminator has min(width * 2**i, 8 * width) channels; a generator or decoder mirrors it, starting from a
  linear projection of z to a ceil(H / 2**n_layers) x ceil(W / 2**n_layers) map and centre-cropping the last
  upsampled map to H x W, so any image size works (16, 28, 32, 64, ...). The deepest allowed value leaves a
  map of at least 2x2: n_layers <= floor(log2(min(H, W))) - 1.

A discriminator's `dropout` > 0 adds dropout after each hidden layer or stage's activation;
`minibatch_std` appends one feature (a constant plane for conv) before its output layer: the batch's mean
standard deviation over the features it sees there, which lets it notice a batch of too-similar samples.

A class count > 0 makes a network conditional: the one-hot label is appended to z (generators, MLPs) or as
constant planes beside the image channels (conv discriminators).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCHS = ("mlp", "conv")


def max_conv_layers(height: int, width: int) -> int:
    """Deepest conv stack that still leaves a map of at least 2x2."""
    return int(math.floor(math.log2(min(height, width)))) - 1


def auto_conv_layers(height: int, width: int) -> int:
    """DCGAN's depth: stages down to a map of about 4x4 (4 at 64x64, 3 at 32x32 and 28x28, 2 at 16x16).

    28x28 takes 3 stages from a 4x4 map, cropped from 32 (as the WGAN-GP authors' MNIST generator starts at
    4x4), not 2 from 7x7: on Fashion-MNIST that took the DCGAN's FID after 5 epochs from 38.5 to 12.0
    (docs/models.md)."""
    side = min(height, width)
    return max(1, min(round(math.log2(side)) - 2, max_conv_layers(height, width)))


def stage_channels(width: int, n_layers: int) -> list[int]:
    return [min(width * 2**i, 8 * width) for i in range(n_layers)]


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # layer norm over (C, H, W): the WGAN-GP paper's batch-norm replacement
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}: use batch, layer or none")


def _one_hot(labels: torch.Tensor | None, n_classes: int, like: torch.Tensor) -> torch.Tensor | None:
    if n_classes == 0:
        return None
    if labels is None:
        raise ValueError("this network is conditional: pass class labels")
    return F.one_hot(labels, n_classes).to(like.dtype)


class MinibatchStd(nn.Module):
    """Karras et al. (2018, ProGAN, section 3): the standard deviation of each feature over the batch, averaged
    to one number, appended to every example as an extra feature (or channel). A collapsed generator's batch
    has a small spread that the discriminator can then see and penalise."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spread = x.float().var(dim=0, unbiased=False).add(1e-8).sqrt().mean().to(x.dtype)
        return torch.cat([x, spread.expand(x.shape[0], 1, *x.shape[2:])], dim=1)


class ConvEncoder(nn.Module):
    """Strided-conv stack -> flatten -> linear head. Serves as discriminator, critic and VAE/CAE encoder."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        out_features: int,
        n_layers: int,
        width: int,
        norm: str = "batch",
        n_classes: int = 0,
        dropout: float = 0.0,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        channels, rows, cols = image_shape
        self.n_classes = n_classes
        layers: list[nn.Module] = []
        in_ch = channels + n_classes
        for i, ch in enumerate(stage_channels(width, n_layers)):
            layers.append(nn.Conv2d(in_ch, ch, 4, 2, 1, bias=(norm == "none" or i == 0)))
            if i > 0:  # DCGAN: no normalisation on the first layer
                layers.append(_norm(norm, ch))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            in_ch = ch
            rows, cols = rows // 2, cols // 2
        if minibatch_std:
            layers.append(MinibatchStd())
            in_ch += 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_ch * rows * cols, out_features)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        onehot = _one_hot(labels, self.n_classes, x)
        if onehot is not None:
            planes = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            x = torch.cat([x, planes], dim=1)
        return self.head(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """Linear projection of z -> transposed-conv stack -> centre crop. DCGAN generator and VAE/CAE decoder."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        z_dim: int,
        n_layers: int,
        width: int,
        out_activation: str = "tanh",
        n_classes: int = 0,
    ) -> None:
        super().__init__()
        channels, self.rows, self.cols = image_shape
        self.n_classes = n_classes
        self.out_activation = out_activation
        chans = stage_channels(width, n_layers)
        scale = 2**n_layers
        self.start = (chans[-1], -(-self.rows // scale), -(-self.cols // scale))
        self.project = nn.Sequential(
            nn.Linear(z_dim + n_classes, math.prod(self.start), bias=False),
            nn.Unflatten(1, self.start),
            nn.BatchNorm2d(chans[-1]),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for ch_in, ch_out in zip(reversed(chans[1:]), reversed(chans[:-1])):
            layers += [
                nn.ConvTranspose2d(ch_in, ch_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch_out),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.ConvTranspose2d(chans[0], channels, 4, 2, 1))
        self.upsample = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        onehot = _one_hot(labels, self.n_classes, z)
        if onehot is not None:
            z = torch.cat([z, onehot], dim=1)
        x = self.upsample(self.project(z))
        top, left = (x.shape[2] - self.rows) // 2, (x.shape[3] - self.cols) // 2
        x = x[:, :, top : top + self.rows, left : left + self.cols]
        return _activate(x, self.out_activation)


class MLPEncoder(nn.Module):
    """Flattened image -> hidden layers (widest first, LeakyReLU, optional dropout) -> Linear(out).

    The MLP discriminator/critic; dropout after each hidden layer keeps an MLP discriminator from
    memorising the training set and overpowering its generator."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        out_features: int,
        n_layers: int,
        width: int,
        n_classes: int = 0,
        dropout: float = 0.0,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        self.n_classes = n_classes
        widths = list(reversed(mlp_widths(width, n_layers)))
        self.net = _mlp(math.prod(image_shape) + n_classes, widths, out_features, dropout)
        if minibatch_std:  # before the output layer, which then reads one more feature
            self.net[-1] = nn.Sequential(MinibatchStd(), nn.Linear(widths[-1] + 1, out_features))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = x.flatten(1)
        onehot = _one_hot(labels, self.n_classes, x)
        if onehot is not None:
            x = torch.cat([x, onehot], dim=1)
        return self.net(x)


class MLPDecoder(nn.Module):
    """z -> hidden layers (narrowest first, LeakyReLU) -> Linear(C*H*W) -> image. The MLP generator."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        z_dim: int,
        n_layers: int,
        width: int,
        out_activation: str = "tanh",
        n_classes: int = 0,
        norm: str = "none",
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        self.n_classes = n_classes
        self.out_activation = out_activation
        self.net = _mlp(z_dim + n_classes, mlp_widths(width, n_layers), math.prod(image_shape), norm=norm)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        onehot = _one_hot(labels, self.n_classes, z)
        if onehot is not None:
            z = torch.cat([z, onehot], dim=1)
        return _activate(self.net(z).view(-1, *self.image_shape), self.out_activation)


def mlp_widths(width: int, n_layers: int) -> list[int]:
    """Hidden widths from the latent side: width, 2 * width, 4 * width, then 4 * width for deeper layers."""
    return [width * 2 ** min(i, 2) for i in range(n_layers)]


def _mlp(
    in_features: int, widths: list[int], out_features: int, dropout: float = 0.0, norm: str = "none"
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for units in widths:
        layers.append(nn.Linear(in_features, units))
        if norm == "batch":
            layers.append(nn.BatchNorm1d(units))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_features = units
    layers.append(nn.Linear(in_features, out_features))
    return nn.Sequential(*layers)


def _activate(x: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "tanh":
        return torch.tanh(x)
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "none":
        return x
    raise ValueError(f"unknown activation {kind!r}")


def build_generator(
    arch: str,
    image_shape: tuple[int, int, int],
    z_dim: int,
    n_layers: int,
    width: int,
    out_activation: str = "tanh",
    n_classes: int = 0,
    mlp_norm: str = "none",
) -> nn.Module:
    if arch == "conv":
        return ConvDecoder(image_shape, z_dim, n_layers, width, out_activation=out_activation, n_classes=n_classes)
    return MLPDecoder(
        image_shape, z_dim, n_layers, width, out_activation=out_activation, n_classes=n_classes, norm=mlp_norm
    )


def build_discriminator(
    arch: str,
    image_shape: tuple[int, int, int],
    n_layers: int,
    width: int,
    norm: str = "batch",
    n_classes: int = 0,
    dropout: float = 0.0,
    minibatch_std: bool = False,
) -> nn.Module:
    if arch == "conv":
        return ConvEncoder(
            image_shape,
            1,
            n_layers,
            width,
            norm=norm,
            n_classes=n_classes,
            dropout=dropout,
            minibatch_std=minibatch_std,
        )
    return MLPEncoder(
        image_shape, 1, n_layers, width, n_classes=n_classes, dropout=dropout, minibatch_std=minibatch_std
    )
