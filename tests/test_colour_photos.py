"""tools/colour_photos.py writes a set gensweep reads as CIFAR-10, with test crops from held-out tiles only:
built here from synthetic photographs (each pixel's colour codes where it lies), so it needs no package."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_cfg
from PIL import Image

from gensweep.data import load_splits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import colour_photos  # noqa: E402

sys.path.pop(0)
WIDTH, HEIGHT = 400, 250


@pytest.fixture
def built(tmp_path, monkeypatch):
    """A 3-class set from synthetic photographs: red encodes a pixel's column, green its row, blue the class."""
    photos = []
    x, y = np.meshgrid(np.arange(WIDTH), np.arange(HEIGHT))
    for label in range(3):
        pixels = np.stack([x * 255 // (WIDTH - 1), y * 255 // (HEIGHT - 1), np.full_like(x, 60 + 60 * label)], -1)
        path = tmp_path / f"photo_{label}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        photos.append((f"class_{label}", "a-package", str(path)))
    monkeypatch.setattr(colour_photos, "PHOTOS", tuple(photos))
    train, test = colour_photos.build(n_train=40, n_test=10, seed=0)
    colour_photos.write_batches(tmp_path / "set" / "cifar-10-batches-py", train, test)
    return tmp_path / "set"


def test_the_set_loads_as_cifar10_with_its_classes(built):
    cfg = make_cfg(["dataset=cifar10", f"dataset.root={built}", "dataset.download=false", "dataset.n_classes=3"])
    train, val = load_splits(cfg.dataset)
    assert train.shape == (3, 32, 32) and len(train) == 120 and len(val) == 30
    assert sorted(train.labels.tolist()) == sorted([0, 1, 2] * 40)
    blue = train.images[:, 2].float().mean(dim=(1, 2))  # each image keeps its photograph's colour
    assert ((blue - (60 + 60 * train.labels.float())).abs() < 3).all()


def test_test_crops_come_from_held_out_tiles_only(built):
    """Red and green give each crop's centre in its photograph; every training centre lies in a training tile
    and every test centre in a held-out one, and both kinds of tile exist."""
    cfg = make_cfg(["dataset=cifar10", f"dataset.root={built}", "dataset.download=false", "dataset.n_classes=3"])
    train, val = load_splits(cfg.dataset)
    grid = colour_photos.tiles(WIDTH, HEIGHT)

    def tile_of(image) -> int:
        cx = float(image[0].float().mean()) * (WIDTH - 1) / 255
        cy = float(image[1].float().mean()) * (HEIGHT - 1) / 255
        return next(i for i, (left, top, right, bottom) in enumerate(grid) if left <= cx < right and top <= cy < bottom)

    for label in range(3):
        train_tiles = {tile_of(im) for im in train.images[train.labels == label]}
        test_tiles = {tile_of(im) for im in val.images[val.labels == label]}
        assert train_tiles and test_tiles and not train_tiles & test_tiles, (train_tiles, test_tiles)
