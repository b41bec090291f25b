"""The divergence probe measures, and every score is read against random references: on the bundled digits
(real scans), with the probe's default budget.

- Real training images against real held-out images score near zero (the noise floor), for several seeds.
- Images shifted by a constant c in every pixel are at Wasserstein-1 distance c * sqrt(pixels) from the
  originals; probe_emd finds it within 10%.
- probe_emd and probe_jsd fall as a WGAN trains, from far above the floor.
- Training is the same with and without the probe (it draws from its own random stream).
- On a split ordered by class, FID's reference, its floor and the probe's images still span every class.
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import SMOKE, make_cfg, train_run
from omegaconf import OmegaConf

from gensweep.config import validate
from gensweep.data import load_splits
from gensweep.data.tensors import ImageTensors
from gensweep.files import read_csv
from gensweep.metrics.probe import DivergenceProbe, real_floor, real_stand_ins
from gensweep.metrics.quality import QualityMetrics
from gensweep.metrics.references import HELD_OUT, PROBE_TRAIN, reference_indices
from gensweep.models.build import build_model

CPU = torch.device("cpu")
# The probe's references take half of each split; the other half stands in for a model's samples.
N_TRAIN, N_TEST = 700, 179


@pytest.fixture(scope="module")
def digits():
    cfg = make_cfg(["metrics.probe.steps=200"])  # the default budget (the bundled digits turn the probe off)
    train, val = load_splits(cfg.dataset)
    probe = DivergenceProbe(OmegaConf.merge(cfg.metrics.probe, {"n_train": N_TRAIN, "n_test": N_TEST}), train, val, CPU)
    return cfg, train, val, probe, real_stand_ins(train, val, N_TRAIN, N_TEST)


@pytest.mark.slow
def test_real_images_against_real_images_score_near_zero(digits):
    cfg, train, val, probe, _ = digits
    scores = [real_floor(cfg.metrics.probe, train, val, CPU, seed) for seed in range(3)]
    # floor here (179 held-out images a side): probe_emd 0.14 to 0.25 over 5 seeds, probe_jsd below 0.01;
    # uniform noise scores 5.0 and 0.69
    assert all(abs(s["probe_emd"]) < 0.35 for s in scores), scores
    assert all(abs(s["probe_jsd"]) < 0.03 for s in scores), scores
    noise = probe.measure(torch.rand(N_TRAIN, 1, 16, 16), torch.rand(N_TEST, 1, 16, 16), 0)
    assert noise["probe_emd"] > 3.0 and noise["probe_jsd"] > 0.6, noise


@pytest.mark.parametrize("shift", [0.05, 0.1, 0.2])
def test_probe_emd_finds_a_known_wasserstein_distance(digits, shift):
    *_, probe, (train_others, val_others) = digits
    pixels = train_others[0].numel()
    known = shift * math.sqrt(pixels)  # a translation by v moves every image by ||v||: W1 = ||v||
    out = probe.measure(train_others.float() / 255 + shift, val_others.float() / 255 + shift, seed=0)
    assert abs(out["probe_emd"] - known) <= 0.1 * known, (out, known)


@pytest.mark.slow
def test_probe_falls_as_a_model_learns(digits):
    cfg, train, val, probe, _ = digits
    run_cfg = make_cfg(["model=wgan", "device=cpu"])
    torch.manual_seed(0)
    model = build_model(run_cfg, validate(run_cfg), train.shape, 10)
    before = probe(model, seed=1)
    order = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(16):  # 16 epochs of 11 batches
        for images, labels in train.batches(run_cfg.batch_size, order, drop_last=True):
            model.train_step(model.to_input(images), labels)
    after = probe(model, seed=1)
    # the untrained generator draws noise-like images: far from the digits; trained, much closer, still above 0
    assert before["probe_emd"] > 3.0 and before["probe_jsd"] > 0.5, before
    assert after["probe_emd"] < 0.6 * before["probe_emd"], (before, after)
    assert after["probe_jsd"] < before["probe_jsd"], (before, after)
    assert after["probe_emd"] > 0.3, after  # above the real-against-real floor: the samples are not yet the data


@pytest.mark.slow
def test_training_is_the_same_with_and_without_the_probe(tmp_path):
    common = [*SMOKE, "model=wgan", "n_epochs=2", "metrics.every=1"]
    train_run(tmp_path / "with", common)
    train_run(tmp_path / "without", [*common, "metrics.probe.steps=0"])
    with_probe, without = read_csv(tmp_path / "with" / "metrics.csv"), read_csv(tmp_path / "without" / "metrics.csv")
    assert "probe_emd" in with_probe[0] and "probe_emd" not in without[0]
    for a, b in zip(with_probe, without, strict=True):
        assert all(a[k] == b[k] for k in b if k != "seconds"), (a, b)
        assert math.isfinite(float(a["probe_emd"])) and math.isfinite(float(a["probe_jsd"]))


def test_references_are_drawn_at_random_from_an_ordered_split(digits):
    """A split ordered by class: its first images are one or two classes. References drawn from the head
    would give a floor between two single-class sets and score every all-class sample far above it."""
    cfg, train, val, *_ = digits

    def by_class(split: ImageTensors) -> ImageTensors:
        order = torch.argsort(split.labels, stable=True)
        return ImageTensors(split.images[order], split.labels[order])

    train_sorted, val_sorted = by_class(train), by_class(val)
    quality = QualityMetrics(cfg.metrics, cfg.dataset, train_sorted, val_sorted, 10, CPU)
    floor = quality.evaluate_images(quality.floor_images.float() / 255, seed=0)
    assert floor["classes_covered"] == 10, floor
    others = train.images[reference_indices(len(train), len(train), 7)[: quality.n]].float() / 255
    assert quality.evaluate_images(others, seed=0)["fid"] < 3 * quality.real_fid, quality.real_fid
    probe = DivergenceProbe(
        OmegaConf.merge(cfg.metrics.probe, {"n_train": N_TRAIN, "n_test": N_TEST}), train_sorted, val_sorted, CPU
    )
    assert set(train_sorted.labels[reference_indices(len(train), N_TRAIN, PROBE_TRAIN)].tolist()) == set(range(10))
    assert len(set(val_sorted.labels[reference_indices(len(val), N_TEST, HELD_OUT)].tolist())) == 10
    assert abs(probe.measure(train.images[:N_TRAIN], val.images[:N_TEST], seed=0)["probe_emd"]) < 0.3
