"""The latent mixture's EM in torch: it recovers a known mixture, a warm refit matches a cold one, it draws
nothing from the global random stream, and its fit survives a checkpoint; the VAE samples its prior by default."""

from __future__ import annotations

from pathlib import Path

import torch
from conftest import make_cfg
from omegaconf import OmegaConf

from gensweep.config import validate
from gensweep.models import expost
from gensweep.models.build import build_model
from gensweep.models.expost import LatentMixture, e_step, fit_mixture

CONF = Path(__file__).resolve().parent.parent / "conf"


def clusters(n: int, weights: list[float], seed: int, d: int = 5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n codes from well-separated full-covariance Gaussians; the codes, the true means and covariances."""
    gen = torch.Generator().manual_seed(0)  # the same mixture for every seed
    means = 10 * torch.randn(len(weights), d, generator=gen, dtype=torch.float64)
    factors = torch.randn(len(weights), d, d, generator=gen, dtype=torch.float64) / d**0.5
    draw = torch.Generator().manual_seed(seed)
    labels = torch.multinomial(torch.tensor(weights), n, replacement=True, generator=draw)
    noise = torch.randn(n, d, generator=draw, dtype=torch.float64)
    return means[labels] + torch.einsum("nij,nj->ni", factors[labels], noise), means, factors @ factors.mT


def test_em_recovers_a_known_mixture():
    x, means, cov = clusters(6000, [0.5, 0.3, 0.2], seed=1)
    fit = fit_mixture(x, 3)
    match = torch.cdist(means, fit["means"]).argmin(1)  # the fitted component nearest each true one
    assert sorted(match.tolist()) == [0, 1, 2]
    assert torch.allclose(fit["weights"][match], torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64), atol=0.02)
    assert torch.allclose(fit["means"][match], means, atol=0.1)
    fitted_cov = fit["chol"][match] @ fit["chol"][match].mT
    assert ((fitted_cov - cov).abs().amax((1, 2)) < 0.1 * cov.abs().amax((1, 2))).all()  # within sampling error


def test_a_warm_refit_after_new_codes_matches_a_cold_fit(monkeypatch):
    seedings = []
    kmeans = expost.kmeans
    monkeypatch.setattr(expost, "kmeans", lambda x, k: seedings.append(len(x)) or kmeans(x, k))
    mixture = LatentMixture(z_dim=5, components=3, device=torch.device("cpu"))
    mixture.add(clusters(6000, [0.5, 0.3, 0.2], seed=1)[0].float())
    first = mixture.fit()
    mixture.add(clusters(3000, [0.1, 0.1, 0.8], seed=2)[0].float())  # other weights: the fit has to move
    warm = mixture.fit()
    assert seedings == [6000]  # the refit started from the first fit
    codes = mixture.codes[: mixture.n_seen].double()
    assert e_step(codes, warm)[1] > e_step(codes, first)[1] + 0.05
    assert abs(e_step(codes, warm)[1] - e_step(codes, expost.fit_mixture(codes, 3))[1]) < 0.01


def test_the_fit_leaves_the_global_random_stream_alone():
    mixture = LatentMixture(z_dim=5, components=3, device=torch.device("cpu"))
    mixture.add(clusters(3000, [0.5, 0.3, 0.2], seed=1)[0].float())
    before = torch.random.get_rng_state()
    mixture.fit()  # cold: k-means++ seeding
    mixture.add(clusters(500, [0.5, 0.3, 0.2], seed=2)[0].float())
    mixture.fit()  # warm
    assert torch.equal(torch.random.get_rng_state(), before)


def test_a_refit_after_a_checkpoint_round_trip_is_the_same():
    """The fit is state: a copy loaded from the state_dict warm-starts from it as the original does, so a
    resumed run draws the same samples as one never stopped."""
    original = LatentMixture(z_dim=5, components=3, device=torch.device("cpu"))
    original.add(clusters(3000, [0.5, 0.3, 0.2], seed=1)[0].float())
    original.fit()
    copy = LatentMixture(z_dim=5, components=3, device=torch.device("cpu"))
    copy.load_state_dict(original.state_dict())
    new = clusters(2000, [0.2, 0.3, 0.5], seed=2)[0].float()
    z = torch.randn(64, 5, generator=torch.Generator().manual_seed(3))
    original.add(new)
    copy.add(new)
    assert torch.equal(copy.draw(z), original.draw(z))


def test_the_vae_samples_its_prior_unless_asked_for_the_mixture():
    """conf/model/vae.yaml says prior (the constructor has no default: test_config.py)."""
    assert OmegaConf.load(CONF / "model" / "vae.yaml").model.sampler == "prior"
    built = {}
    for name, extra in (("prior", []), ("gmm", ["model.sampler=gmm"])):
        cfg = make_cfg(["model=vae", "device=cpu", "z_dim=4", "width=8", *extra])
        built[name] = build_model(cfg, validate(cfg), (1, 16, 16), 10)
    assert built["prior"].mixture is None
    assert isinstance(built["gmm"].mixture, LatentMixture)
