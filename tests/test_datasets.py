"""The real sets, loaded offline (download=false) from tiny files in each real on-disk format."""

from __future__ import annotations

import math

import fake_data as fake
import pytest
import torch
import torchvision.datasets as tvd
from conftest import make_cfg, train_run
from PIL import Image

from gensweep.data import load_splits
from gensweep.errors import DatasetError
from gensweep.files import read_csv


def load(name: str, root, *extra: str):
    cfg = make_cfg([f"dataset={name}", f"dataset.root={root}", "dataset.download=false", *extra])
    return load_splits(cfg.dataset)


def cache_files(root):
    return sorted(p.name for p in root.rglob("gensweep-cache/*.pt"))


def brightness_matches_labels(data, step: int = 20) -> bool:
    """The fake images are label * step + noise(0..9); resizing keeps the mean."""
    mean = data.images.float().mean(dim=(1, 2, 3))
    return bool(((mean - data.labels.float() * step).abs() < 10).all())


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_idx_sets(tmp_path, name, folder):
    fake.mnist(tmp_path, folder)
    train, val = load(name, tmp_path)
    assert train.shape == (1, 28, 28) and len(train) == 60 and len(val) == 20
    assert train.images.dtype == torch.uint8 and train.labels.tolist()[:12] == list(range(10)) + [0, 1]
    assert brightness_matches_labels(train) and brightness_matches_labels(val)
    assert cache_files(tmp_path) == [f"{name}-test-28px-1ch-v1.pt", f"{name}-train-28px-1ch-v1.pt"]


def test_mnist_from_gz_files_only(tmp_path):
    fake.mnist(tmp_path, gz=True)
    train, _ = load("mnist", tmp_path, "dataset.image_size=32", "dataset.channels=3")
    assert train.shape == (3, 32, 32) and brightness_matches_labels(train)


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_cifar10(tmp_path, bytes_keys):
    fake.cifar10(tmp_path, bytes_keys=bytes_keys)
    train, val = load("cifar10", tmp_path)
    assert train.shape == (3, 32, 32) and len(train) == 50 and len(val) == 20
    assert brightness_matches_labels(train) and brightness_matches_labels(val)


def test_svhn_maps_label_10_to_0(tmp_path):
    fake.svhn(tmp_path)
    train, val = load("svhn", tmp_path)
    assert train.shape == (3, 32, 32) and len(train) == 40 and len(val) == 20
    assert set(train.labels.tolist()) == set(range(10))
    assert brightness_matches_labels(train)


def test_celeba_partitions_crop_and_attribute(tmp_path):
    fake.celeba(tmp_path, attributes=True)
    train, val = load("celeba", tmp_path)
    assert train.shape == (3, 64, 64) and len(train) == 18 and len(val) == 6  # partitions 0 and 2
    assert set(train.labels.tolist()) == {0}
    assert abs(train.images.float().mean() - 104.5) < 3
    _, valid = load("celeba", tmp_path, "dataset.val_split=valid")
    assert len(valid) == 6
    train, _ = load("celeba", tmp_path / "celeba", "dataset.label_attribute=Smiling", "dataset.image_size=32")
    assert train.shape == (3, 32, 32) and set(train.labels.tolist()) == {0, 1}


def test_zappos_categories_and_seeded_split(tmp_path):
    fake.zappos(tmp_path)
    train, val = load("zappos50k", tmp_path, "dataset.val_fraction=0.25", "dataset.image_size=32")
    assert train.shape == (3, 32, 32) and len(train) == 18 and len(val) == 6
    assert sorted(train.labels.tolist() + val.labels.tolist()) == sorted([0, 1, 2, 3] * 6)
    assert brightness_matches_labels(train, step=60) and brightness_matches_labels(val, step=60)
    again_train, again_val = load(
        "zappos50k", tmp_path / "ut-zap50k-images-square", "dataset.val_fraction=0.25", "dataset.image_size=32"
    )
    assert torch.equal(again_val.labels, val.labels)


def test_cache_round_trip_and_keys(tmp_path):
    raw = fake.mnist(tmp_path)
    train, val = load("mnist", tmp_path)
    for f in raw.iterdir():  # the second start reads only the cache
        f.unlink()
    again, again_val = load("mnist", tmp_path)
    assert torch.equal(again.images, train.images) and torch.equal(again.labels, train.labels)
    assert torch.equal(again_val.images, val.images)
    with pytest.raises(DatasetError, match="not found"):  # a changed key needs a new conversion
        load("mnist", tmp_path, "dataset.image_size=16")


def test_unreadable_cache_is_rebuilt(tmp_path):
    fake.mnist(tmp_path)
    train, _ = load("mnist", tmp_path)
    path = next(tmp_path.rglob("gensweep-cache/mnist-train-*.pt"))
    path.write_bytes(path.read_bytes()[:100])
    again, _ = load("mnist", tmp_path)
    assert torch.equal(again.images, train.images)


# --- errors: each names the path and the fix, and leaves no cache file behind -------------------------------


def test_missing_files_with_download_false(tmp_path):
    with pytest.raises(DatasetError) as err:
        load("cifar10", tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "dataset.download=true" in message and "data_batch_1" in message
    assert cache_files(tmp_path) == []


def test_failed_download_shows_manual_layout_and_leaves_the_disk_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setattr(tvd.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there: no network
    (tmp_path / "kept").mkdir()  # an empty folder of the user's, there before
    root = tmp_path / "data" / "sets"  # made for the download
    cfg = make_cfg(["dataset=mnist", f"dataset.root={root}", "dataset.download=true"])
    with pytest.raises(DatasetError) as err:
        load_splits(cfg.dataset)
    message = str(err.value)
    assert "could not download MNIST" in message and "train-images-idx3-ubyte" in message
    # torchvision's heading and its reason, not the heading alone
    assert "(RuntimeError: Error downloading train-images-idx3-ubyte.gz: <urlopen error " in message
    assert "dataset.download=false" in message
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]  # no empty data/sets/MNIST/raw/ left behind


def test_celeba_download_failure_says_where_to_put_files(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tvd.CelebA, "download", no_network)
    cfg = make_cfg(["dataset=celeba", f"dataset.root={tmp_path}", "dataset.download=true"])
    with pytest.raises(DatasetError) as err:
        load_splits(cfg.dataset)
    message = str(err.value)
    assert "img_align_celeba" in message and "list_eval_partition.txt" in message and str(tmp_path) in message


@pytest.mark.parametrize("kind", ["idx", "gz", "cifar", "svhn"])
def test_truncated_files_are_named(tmp_path, kind):
    if kind in ("idx", "gz"):
        raw = fake.mnist(tmp_path, gz=kind == "gz")
        target = raw / ("train-images-idx3-ubyte" + (".gz" if kind == "gz" else ""))
        name = "mnist"
    elif kind == "cifar":
        target = fake.cifar10(tmp_path) / "data_batch_3"
        name = "cifar10"
    else:
        target = fake.svhn(tmp_path) / "train_32x32.mat"
        name = "svhn"
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 2])
    with pytest.raises(DatasetError) as err:
        load(name, tmp_path)
    assert "truncated or corrupt" in str(err.value) and target.name in str(err.value)
    assert cache_files(tmp_path) == []


def test_empty_image_folder(tmp_path):
    folder = fake.zappos(tmp_path)
    for f in (folder / "Sandals").rglob("*.jpg"):
        f.unlink()
    with pytest.raises(DatasetError, match="Sandals has no .jpg/.png images"):
        load("zappos50k", tmp_path)
    assert cache_files(tmp_path) == []


def test_unreadable_image_is_named(tmp_path):
    folder = fake.celeba(tmp_path)
    (folder / "img_align_celeba" / "000007.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(DatasetError, match="cannot read image .*000007.jpg"):
        load("celeba", tmp_path)
    assert cache_files(tmp_path) == []


def test_cdcgan_on_unlabelled_celeba_is_refused():
    from gensweep.config import validate
    from gensweep.errors import ConfigError

    with pytest.raises(ConfigError, match="needs class labels.*label_attribute"):
        validate(make_cfg(["model=cdcgan", "dataset=celeba"]))


# --- one epoch on each set through the real trainer ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,writer,model",
    [
        ("mnist", fake.mnist, "dcgan"),
        ("fashion_mnist", lambda r: fake.mnist(r, "FashionMNIST"), "vae"),
        ("cifar10", fake.cifar10, "wgan_gp"),
        ("svhn", fake.svhn, "cae"),
        ("celeba", fake.celeba, "dcgan"),
        ("zappos50k", fake.zappos, "cdcgan"),
    ],
)
def test_one_epoch_on_each_set(tmp_path, name, writer, model):
    """Each set's files, read by its real loader, train a model for an epoch: finite losses, every training
    image used once, and a sample grid of 8 images a row at the set's size."""
    writer(tmp_path / "data")
    overrides = [
        f"model={model}",
        f"dataset={name}",
        f"dataset.root={tmp_path / 'data'}",
        "dataset.download=false",
        "n_epochs=1",
        "batch_size=8",
        "trainer.progress=false",
        # the loader and one epoch are what is tested: no FID classifier to train, no divergence probe, and
        # no averaged generator, whose batch-norm statistics take 4,096 samples to measure at 64x64
        "metrics.backbone=none",
        "metrics.probe.steps=0",
        *([] if model in ("vae", "cae") else ["model.ema=0"]),
    ]
    summary = train_run(tmp_path / "run", overrides)
    (row,) = read_csv(tmp_path / "run" / "metrics.csv")
    train, _ = load_splits(make_cfg(overrides).dataset)
    assert int(row["epoch"]) == 1 and int(row["step"]) == summary["steps"] == len(train) // 8
    losses = [float(v) for k, v in row.items() if k.startswith(("train_loss", "val_loss"))]
    assert losses and all(math.isfinite(v) for v in losses)
    size = summary["image_shape"][1]
    assert size == make_cfg(overrides).dataset.image_size
    assert Image.open(tmp_path / "run" / "samples" / "epoch_001.png").width == 8 * (size + 2) + 2
