"""The bundled digits set and the uint8 tensor batching."""
from __future__ import annotations

import torch

from conftest import make_cfg
from gensweep.data import build_datasets
from gensweep.data.split import seeded_split
from gensweep.data.tensors import ImageTensors


def test_digits_shape_range_labels_and_fixed_split():
    cfg = make_cfg([]).dataset
    train, val = build_datasets(cfg)
    assert len(train) + len(val) == 1797 and len(val) == 359
    assert train.images.dtype == torch.uint8 and train.shape == (1, 16, 16)
    assert train.images.max() == 255 and train.images.min() == 0
    assert set(train.labels.tolist()) == set(range(10)) == set(val.labels.tolist())
    again_train, again_val = build_datasets(cfg)
    assert torch.equal(val.images, again_val.images)  # the split does not depend on the run's seed


def test_digits_are_converted_once_then_read_from_the_cache(monkeypatch):
    cfg = make_cfg(["dataset.image_size=12"]).dataset
    train, val = build_datasets(cfg)
    import sklearn.datasets

    def no_sklearn():
        raise AssertionError("a cached run must not decode the digits again")

    monkeypatch.setattr(sklearn.datasets, "load_digits", no_sklearn)
    again_train, again_val = build_datasets(cfg)
    assert again_train.shape == (1, 12, 12)
    assert torch.equal(train.images, again_train.images) and torch.equal(val.labels, again_val.labels)


def test_seeded_split_is_disjoint_complete_and_seed_bound():
    data = ImageTensors(torch.zeros(50, 1, 2, 2, dtype=torch.uint8), torch.arange(50))
    train, val = seeded_split(data, 0.2, split_seed=3)
    assert len(val) == 10 and sorted(train.labels.tolist() + val.labels.tolist()) == list(range(50))
    assert torch.equal(seeded_split(data, 0.2, split_seed=3)[1].labels, val.labels)
    assert not torch.equal(seeded_split(data, 0.2, split_seed=4)[1].labels, val.labels)


def test_subset_keeps_n_training_images_and_all_validation():
    train, val = build_datasets(make_cfg(["dataset.subset=100"]).dataset)
    assert len(train) == 100 and len(val) == 359


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
