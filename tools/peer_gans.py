"""Published GAN recipes (two plain MLP GANs and one DCGAN), trained on the same images as a gensweep run, so
that gensweep's GANs can be compared with what users copy today. Each recipe keeps its published networks,
loss, optimizer, batch size and step order; only the data comes from gensweep's decoded tensors, scaled
exactly as their `ToTensor()` + `Normalize(0.5, 0.5)` does, and shuffled every epoch as their
`DataLoader(shuffle=True)` does.

- ``pytorch_gan``: PyTorch-GAN, implementations/gan/gan.py (Linder-Noren): G 100-128-256-512-1024-784 with
  BatchNorm1d(eps=0.8) after every hidden layer but the first, D 784-512-256-1 with sigmoid, LeakyReLU 0.2,
  BCE, Adam 2e-4 (0.5, 0.999), batch 64; per batch one generator step, then one discriminator step on
  (BCE(real) + BCE(fake)) / 2 with the same fake batch.
- ``pytorch_gan_dcgan``: PyTorch-GAN, implementations/dcgan/dcgan.py (Linder-Noren), for images whose side is
  a multiple of 16 (its default 32): G z -> Linear to 128 maps of side/4, BatchNorm2d, then twice nearest
  2x upsampling + 3x3 conv (128, then 64 maps) + BatchNorm2d(eps=0.8) + LeakyReLU 0.2, then a 3x3 conv to the
  channels and tanh; D four 3x3 stride-2 convs (16, 32, 64, 128 maps), each with LeakyReLU 0.2 and
  Dropout2d(0.25), BatchNorm2d(eps=0.8) after all but the first, then Linear to 1 and sigmoid; conv weights
  N(0, 0.02), batch-norm scales N(1, 0.02); the loss, optimizer, batch and step order of ``pytorch_gan``.
- ``znxlwm``: pytorch-MNIST-CelebA-GAN-CGAN, pytorch_MNIST_GAN.py (znxlwm): G 100-256-512-1024-784 (LeakyReLU
  0.2, tanh), D 784-1024-512-256-1 with dropout 0.3 after each hidden layer (functional dropout, so on in
  every pass) and sigmoid, BCE, Adam 2e-4 (0.5, 0.999), batch 128; per batch one discriminator step on
  BCE(real) + BCE(fake), then one generator step on fresh noise.

After each epoch in --save-epochs it writes --samples PNG samples (fixed noise) to
<out>/<recipe>/epoch_<NNN>/, the folders `python -m gensweep.score` scores. With --score it scores them
too and prints one Markdown row per recipe and epoch:

    python tools/peer_gans.py --dataset fashion_mnist --epochs 20 --save-epochs 5,10,20 --score \\
        dataset.download=false
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from results import doc_parser
from torchvision.utils import save_image

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ("pytorch_gan", "znxlwm", "pytorch_gan_dcgan")


class PyTorchGANGenerator(nn.Module):
    def __init__(self, z_dim: int, pixels: int) -> None:
        super().__init__()

        def block(n_in: int, n_out: int, normalize: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
            if normalize:
                layers.append(nn.BatchNorm1d(n_out, 0.8))  # as published: the 0.8 lands on eps
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(z_dim, 128, normalize=False),
            *block(128, 256),
            *block(256, 512),
            *block(512, 1024),
            nn.Linear(1024, pixels),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z)


class PyTorchGANDiscriminator(nn.Module):
    def __init__(self, pixels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(pixels, 512),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(256, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class ZnxlwmGenerator(nn.Module):
    def __init__(self, z_dim: int, pixels: int) -> None:
        super().__init__()
        self.fc = nn.ModuleList([nn.Linear(z_dim, 256), nn.Linear(256, 512), nn.Linear(512, 1024)])
        self.out = nn.Linear(1024, pixels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        for layer in self.fc:
            z = F.leaky_relu(layer(z), 0.2)
        return torch.tanh(self.out(z))


class ZnxlwmDiscriminator(nn.Module):
    def __init__(self, pixels: int) -> None:
        super().__init__()
        self.fc = nn.ModuleList([nn.Linear(pixels, 1024), nn.Linear(1024, 512), nn.Linear(512, 256)])
        self.out = nn.Linear(256, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.fc:
            x = F.dropout(F.leaky_relu(layer(x), 0.2), 0.3)  # F.dropout defaults to training=True
        return torch.sigmoid(self.out(x))


class PyTorchGANDCGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, side: int) -> None:
        super().__init__()
        self.start = side // 4
        self.fc = nn.Linear(z_dim, 128 * self.start**2)

        def up(n_in: int, n_out: int) -> list[nn.Module]:
            return [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(n_in, n_out, 3, 1, 1),
                nn.BatchNorm2d(n_out, 0.8),
                nn.LeakyReLU(0.2, inplace=True),
            ]

        self.convs = nn.Sequential(
            nn.BatchNorm2d(128), *up(128, 128), *up(128, 64), nn.Conv2d(64, channels, 3, 1, 1), nn.Tanh()
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.convs(self.fc(z).view(len(z), 128, self.start, self.start))


class PyTorchGANDCDiscriminator(nn.Module):
    def __init__(self, channels: int, side: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for n_in, n_out in ((channels, 16), (16, 32), (32, 64), (64, 128)):
            layers += [nn.Conv2d(n_in, n_out, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]
            if n_in != channels:
                layers.append(nn.BatchNorm2d(n_out, 0.8))
        self.convs = nn.Sequential(*layers)
        self.out = nn.Sequential(nn.Linear(128 * (side // 16) ** 2, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.convs(x).flatten(1))


def dcgan_init(module: nn.Module) -> None:
    """The recipe's initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02) and shifts 0."""
    if isinstance(module, nn.Conv2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def train(
    recipe: str, images: torch.Tensor, epochs: int, save_epochs: set[int], n_samples: int, out: Path, seed: int
) -> None:
    """Train one recipe on uint8 images (N, C, H, W), saving sample folders after the chosen epochs."""
    torch.manual_seed(seed)
    shape = tuple(images.shape[1:])
    pixels, z_dim = math.prod(shape), 100
    if recipe == "pytorch_gan":
        g, d, batch = PyTorchGANGenerator(z_dim, pixels), PyTorchGANDiscriminator(pixels), 64
    elif recipe == "pytorch_gan_dcgan":
        g, d, batch = (
            PyTorchGANDCGenerator(z_dim, shape[0], shape[1]),
            PyTorchGANDCDiscriminator(shape[0], shape[1]),
            64,
        )
        g.apply(dcgan_init)
        d.apply(dcgan_init)
    else:
        g, d, batch = ZnxlwmGenerator(z_dim, pixels), ZnxlwmDiscriminator(pixels), 128
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    fixed = torch.randn(n_samples, z_dim, generator=torch.Generator().manual_seed(seed + 1))
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        g.train()
        for idx in torch.randperm(len(images)).split(batch):  # DataLoader(shuffle=True), last batch kept
            x = images[idx].float().div_(255).sub_(0.5).div_(0.5)  # ToTensor + Normalize(0.5, 0.5)
            x = x if recipe == "pytorch_gan_dcgan" else x.flatten(1)
            ones, zeros = torch.ones(len(x), 1), torch.zeros(len(x), 1)
            if recipe.startswith("pytorch_gan"):
                opt_g.zero_grad()
                fake = g(torch.randn(len(x), z_dim))
                bce(d(fake), ones).backward()
                opt_g.step()
                opt_d.zero_grad()
                ((bce(d(x), ones) + bce(d(fake.detach()), zeros)) / 2).backward()
                opt_d.step()
            else:
                opt_d.zero_grad()
                (bce(d(x), ones) + bce(d(g(torch.randn(len(x), z_dim))), zeros)).backward()
                opt_d.step()
                opt_g.zero_grad()
                bce(d(g(torch.randn(len(x), z_dim))), ones).backward()
                opt_g.step()
        print(f"{recipe} epoch {epoch}/{epochs} ({time.perf_counter() - start:.1f}s)", flush=True)
        if epoch in save_epochs:
            # Both save the generator's output of a training-mode pass (PyTorch-GAN's batch norm then uses the
            # batch's statistics): sampled the same way here, in batches of the recipe's size.
            folder = out / recipe / f"epoch_{epoch:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            with torch.no_grad():
                samples = (torch.cat([g(z) for z in fixed.split(batch)]).view(-1, *shape) + 1) / 2
            for i, image in enumerate(samples):
                save_image(image, folder / f"{i:04d}.png")


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--save-epochs", default="5,10,20")
    parser.add_argument("--recipes", default=None, help="comma list (default: every recipe that fits the images)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "peers")
    parser.add_argument("--score", action="store_true", help="score every saved folder with gensweep.score")
    args, overrides = parser.parse_known_args()
    recipes = args.recipes.split(",") if args.recipes else []
    if unknown := [r for r in recipes if r not in RECIPES]:
        sys.exit(f"peer_gans.py: unknown recipe {', '.join(unknown)}: use {', '.join(RECIPES)}")
    save_epochs = {int(e) for e in args.save_epochs.split(",")}

    from gensweep.api import compose_config, load_splits, score

    cfg = compose_config([f"dataset={args.dataset}", *overrides])
    train_set, _ = load_splits(cfg.dataset)
    side = train_set.shape[1]
    if "pytorch_gan_dcgan" in recipes and side % 16:
        sys.exit(
            f"peer_gans.py: pytorch_gan_dcgan needs an image side divisible by 16, not {side}: "
            "leave it out of --recipes"
        )
    recipes = recipes or [r for r in RECIPES if r != "pytorch_gan_dcgan" or side % 16 == 0]
    out = args.out / args.dataset
    for recipe in recipes:
        train(recipe, train_set.images, args.epochs, save_epochs, args.samples, out, args.seed)
    if args.score:
        print("\n| recipe | epoch | fid | kid | classes_covered |\n|---|---|---|---|---|")
        for recipe in recipes:
            for epoch in sorted(save_epochs):
                s = score(str(out / recipe / f"epoch_{epoch:03d}"), [f"dataset={args.dataset}", *overrides])
                print(
                    f"| {recipe} | {epoch} | {s['fid']:.4g} | {s['kid']:.4g} | {s.get('classes_covered', '')} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
