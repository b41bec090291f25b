"""A colour model that collapses to a few colours fails here.

Each model trains at its defaults for 32x32 colour photos (dataset=cifar10, so conf/dataset_model/ applies) on a
tiny set of ten classes, each one hue with its own stripes, and its samples must cover the hues: a generator
that draws a few colours, or only grey, covers two or three. The hue of a sample's mean colour names its class,
so the check needs no classifier.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_cfg
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv

from gensweep.config import validate
from gensweep.data import load_splits
from gensweep.metrics.references import generate
from gensweep.models.build import build_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import colour_photos  # noqa: E402

sys.path.pop(0)
N_CLASSES = 10
# Steps of batch 128 on 1,000 images, 1.5 times what each needed on this machine to cover all ten hues (gan 150,
# wgan 200; wgan_gp, vae and cae 50), so that another machine's float rounding cannot flip it.
BUDGET = {"gan": 225, "wgan": 300, "wgan_gp": 75, "vae": 75, "cae": 75}


def colour_set(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class k: hue k/10 (jittered), saturation 0.5-0.9, brightness striped at the class's own angle."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(N_CLASSES), n_per_class)
    y, x = np.mgrid[0:32, 0:32] / 32
    images = []
    for k in labels:
        angle, phase, freq = k * np.pi / N_CLASSES, rng.uniform(0, 2 * np.pi), rng.uniform(2, 4)
        stripes = np.sin(2 * np.pi * freq * (x * np.cos(angle) + y * np.sin(angle)) + phase)
        value = np.clip(0.6 + 0.25 * stripes + rng.normal(0, 0.03, x.shape), 0, 1)
        hue = np.full_like(x, (k / N_CLASSES + rng.normal(0, 0.01)) % 1)
        hsv = np.stack([hue, np.full_like(x, rng.uniform(0.5, 0.9)), value], -1)
        images.append((hsv_to_rgb(hsv) * 255).round().astype(np.uint8).transpose(2, 0, 1))
    order = rng.permutation(len(labels))
    return np.stack(images)[order], labels[order]


def hue_classes(images: torch.Tensor) -> torch.Tensor:
    """Each [0, 1] image's class by the hue of its mean colour (nearest k/10 around the circle); -1 for grey."""
    hsv = rgb_to_hsv(images.mean(dim=(2, 3)).clamp(0, 1).numpy())
    steps = (hsv[:, 0] * N_CLASSES).round().astype(int) % N_CLASSES
    return torch.from_numpy(np.where(hsv[:, 1] < 0.2, -1, steps))


def hues_covered(images: torch.Tensor) -> int:
    """Hues that get at least a fifth of a uniform share of the images (the classes_covered rule)."""
    classes = hue_classes(images)
    counts = torch.bincount(classes[classes >= 0], minlength=N_CLASSES)
    return int((counts >= 0.2 * len(images) / N_CLASSES).sum())


@pytest.fixture(scope="module")
def colour_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("colour")
    colour_photos.write_batches(root / "cifar-10-batches-py", colour_set(100, seed=0), colour_set(20, seed=1))
    return root


def overrides(root: Path, model: str) -> list[str]:
    return [f"model={model}", "dataset=cifar10", f"dataset.root={root}", "dataset.download=false", "device=cpu"]


def test_the_check_sees_a_collapse(colour_root):
    train, _ = load_splits(make_cfg(overrides(colour_root, "gan")).dataset)
    real = train.images.float() / 255
    assert (hue_classes(real) == train.labels).all()  # the hue names every real image's class
    assert hues_covered(real) == N_CLASSES
    assert hues_covered(real[train.labels < 2]) == 2  # a generator that draws two of the colours
    assert hues_covered(real.mean(dim=1, keepdim=True).expand_as(real)) == 0  # one that draws grey


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUDGET))
def test_colour_defaults_cover_the_hues(colour_root, name):
    cfg = make_cfg(overrides(colour_root, name))
    train, _ = load_splits(cfg.dataset)
    torch.manual_seed(0)
    model = build_model(cfg, validate(cfg), train.shape, N_CLASSES)
    order, steps = torch.Generator().manual_seed(0), 0
    model.train()
    while steps < BUDGET[name]:
        for images, labels in train.batches(cfg.batch_size, order, drop_last=True):
            model.train_step(model.to_input(images), labels)
            steps += 1
            if steps == BUDGET[name]:
                break
    samples = generate(model, 500, seed=0)
    assert hues_covered(samples) >= 9, (name, torch.bincount(hue_classes(samples) + 1, minlength=N_CLASSES + 1))
