"""The bundled digits set and the uint8 tensor batching."""

from __future__ import annotations

import pytest
import torch
from conftest import make_cfg, train_run

from gensweep.data import load_splits
from gensweep.data.split import seeded_split
from gensweep.data.tensors import ImageTensors


def test_digits_shape_range_labels_and_fixed_split():
    """16x16 uint8 digits over the full range, every class in both splits, and a validation split fixed by
    dataset.split_seed: a run with another seed validates on the same images."""
    train, val = load_splits(make_cfg([]).dataset)
    assert len(train) + len(val) == 1797 and len(val) == 359
    assert train.images.dtype == torch.uint8 and train.shape == (1, 16, 16)
    assert train.images.max() == 255 and train.images.min() == 0
    assert set(train.labels.tolist()) == set(range(10)) == set(val.labels.tolist())
    _, other_seed = load_splits(make_cfg(["seed=7"]).dataset)
    assert torch.equal(val.images, other_seed.images)
    _, other_split = load_splits(make_cfg(["dataset.split_seed=7"]).dataset)
    assert not torch.equal(val.images, other_split.images)


def test_digits_are_converted_once_then_read_from_the_cache(monkeypatch):
    cfg = make_cfg(["dataset.image_size=12"]).dataset
    train, val = load_splits(cfg)
    import sklearn.datasets

    def no_sklearn():
        raise AssertionError("a cached run must not decode the digits again")

    monkeypatch.setattr(sklearn.datasets, "load_digits", no_sklearn)
    again_train, again_val = load_splits(cfg)
    assert again_train.shape == (1, 12, 12)
    assert torch.equal(train.images, again_train.images) and torch.equal(val.labels, again_val.labels)


def test_seeded_split_is_disjoint_complete_and_seed_bound():
    data = ImageTensors(torch.zeros(50, 1, 2, 2, dtype=torch.uint8), torch.arange(50))
    train, val = seeded_split(data, 0.2, split_seed=3)
    assert len(val) == 10 and sorted(train.labels.tolist() + val.labels.tolist()) == list(range(50))
    assert torch.equal(seeded_split(data, 0.2, split_seed=3)[1].labels, val.labels)
    assert not torch.equal(seeded_split(data, 0.2, split_seed=4)[1].labels, val.labels)


@pytest.mark.slow
def test_a_run_with_a_subset_trains_on_that_many_images(tmp_path, caplog):
    """dataset.subset=100 at batch 10: ten steps an epoch, and the run says 100 training images."""
    caplog.set_level("INFO", logger="gensweep")
    summary = train_run(
        tmp_path,
        ["dataset.subset=100", "batch_size=10", "n_epochs=1", "metrics.backbone=none", "trainer.progress=false"],
    )
    assert summary["steps"] == 10
    assert "100 train / 359 val images" in caplog.text


def test_batches_cover_a_permutation_each_epoch():
    data = ImageTensors(torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1), torch.arange(10))
    gen = torch.Generator().manual_seed(0)
    first = torch.cat([y for _, y in data.batches(3, gen, drop_last=True)])
    second = torch.cat([y for _, y in data.batches(3, gen, drop_last=True)])
    assert len(first) == 9 and len(set(first.tolist())) == 9
    assert not torch.equal(first, second)
    every = torch.cat([y for _, y in data.batches(4)])
    assert every.tolist() == list(range(10))
    for images, labels in data.batches(3, gen):
        assert torch.equal(images.view(-1).long(), labels)
