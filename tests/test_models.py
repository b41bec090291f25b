"""Every model trains on a tiny digits subset and writes well-formed artifacts."""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import DEVICES, SMOKE, make_cfg, on_device, train_run
from PIL import Image

from gensweep.config import resolve_device, validate
from gensweep.errors import CheckpointError
from gensweep.files import read_csv
from gensweep.models.build import build_model
from gensweep.train import checkpoint

MODELS = ["vae", "cae", "gan", "wgan", "wgan_gp", "dcgan", "cdcgan"]
ESTIMATE = {"gan": "jsd", "dcgan": "jsd", "cdcgan": "jsd", "wgan": "emd", "wgan_gp": "emd"}


def grid_side(n_images: int, size: int = 16, padding: int = 2) -> int:
    return n_images * (size + padding) + padding


@pytest.mark.slow
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("model", MODELS)
def test_model_trains_two_epochs_with_artifacts(tmp_path, model, device):
    summary = train_run(tmp_path, [f"model={model}", "n_epochs=2", f"device={on_device(device)}", *SMOKE])
    assert summary["status"] == "completed"
    assert summary["epochs_completed"] == 2

    rows = read_csv(tmp_path / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert [int(r["step"]) for r in rows] == [2, 4]  # 128 images / batch 64 (debug=smoke)
    header = list(rows[0])
    assert header[:3] == ["epoch", "step", "seconds"]
    assert any(c.startswith("train_") for c in header) and any(c.startswith("val_") for c in header)
    if model in ESTIMATE:
        assert ESTIMATE[model] in header
        other = {"jsd": "emd", "emd": "jsd"}[ESTIMATE[model]]
        assert other not in header
    for row in rows:
        for col in ("train_loss", "val_loss", "train_loss_d", "val_loss_d", "jsd", "emd"):
            if col in row:
                assert math.isfinite(float(row[col])), (col, row)
        if model in ESTIMATE:  # D's mean output on real and generated images, as pytorch/examples' dcgan logs
            scores = [float(row[f"{split}_d_{kind}"]) for split in ("train", "val") for kind in ("real", "fake")]
            assert all(math.isfinite(s) for s in scores), row
            if ESTIMATE[model] == "jsd":  # the GAN family's D gives probabilities
                assert all(0.0 <= s <= 1.0 for s in scores), row

    # An 8x8 grid of 16x16 digits; the conditional model has one row of 8 per class (10 classes).
    rows_of_images = 10 if model == "cdcgan" else 8
    for epoch in (1, 2):
        img = Image.open(tmp_path / "samples" / f"epoch_{epoch:03d}.png")
        assert img.size == (grid_side(8), grid_side(rows_of_images))
    assert (tmp_path / "reconstructions.png").exists() == (model in ("vae", "cae"))
    if model in ("vae", "cae"):
        assert Image.open(tmp_path / "reconstructions.png").size == (grid_side(8), grid_side(2))
    assert Image.open(tmp_path / "interpolation.png").size == (grid_side(10), grid_side(2))
    gif = Image.open(tmp_path / "interpolation.gif")
    assert gif.n_frames == 18  # 10 steps there, 8 back
    curves = Image.open(tmp_path / "curves.png")
    assert curves.size[0] > 400 and curves.size[1] > 200

    saved = json.loads((tmp_path / "summary.json").read_text())
    assert (
        saved["status"] == "completed"
        and saved["model"] == model
        and saved["device"] == str(resolve_device(on_device(device)))
    )
    assert saved["final"]["epoch"] == 2

    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 2 and state["step"] == 4
    assert any(k.startswith("nets.") for k in state["model"]["weights"]) and set(state["model"]["optims"])


def _build(overrides: list[str], image_shape=(1, 16, 16)):
    cfg = make_cfg([*overrides, "device=cpu"])
    return build_model(cfg, validate(cfg), image_shape, 10)


def test_wgan_follows_its_papers_critic_schedule():
    """Warm-up critic steps before each of the first generator steps and every refresh_every-th one, n_critic
    otherwise: counted from the steps on which train_step updates the generator."""
    torch.manual_seed(0)
    model = _build(
        [
            "model=wgan",
            "model.n_critic=2",
            "model.warmup_g_steps=2",
            "model.warmup_critic_steps=4",
            "model.refresh_every=5",
            "width=8",
            "z_dim=4",
        ]
    )
    x, y = torch.rand(8, 1, 16, 16) * 2 - 1, torch.zeros(8, dtype=torch.long)
    critic_steps, since = [], 0
    while len(critic_steps) < 11:
        since += 1
        if "loss_g" in model.train_step(x, y):
            critic_steps.append(since)
            since = 0
    # generator steps 0-1: warm-up; 5 and 10: refresh; the rest n_critic
    assert critic_steps == [4, 4, 2, 2, 2, 4, 2, 2, 2, 2, 4]
    assert max(p.abs().max() for p in model.nets["discriminator"].parameters()) <= 0.01
    assert _build(["model=wgan_gp", "model.n_critic=5"]).critic_steps(0) == 5  # WGAN-GP has no warm-up


def test_generator_average_trails_the_generator_and_draws_the_samples():
    torch.manual_seed(0)
    model = _build(["model=gan", "model.ema=0.9", "width=8", "z_dim=4"])
    g, avg = model.nets["generator"], model.nets["generator_ema"]
    start = [p.clone() for p in avg.parameters()]
    x, y = torch.rand(16, 1, 16, 16) * 2 - 1, torch.zeros(16, dtype=torch.long)
    for _ in range(20):
        model.train_step(x, y)
    assert not any(p.requires_grad for p in avg.parameters())
    moved = [(a - s).abs().sum().item() for a, s in zip(avg.parameters(), start)]
    lag = [(a - p).abs().sum().item() for a, p in zip(avg.parameters(), g.parameters())]
    assert all(m > 0 for m in moved) and all(d > 0 for d in lag)  # it follows, one step behind or more
    z = torch.randn(3, 4)
    model.eval()
    assert torch.equal(model.sample(z), model.to_unit(avg(z)))
    assert not torch.equal(model.sample(z), model.to_unit(g(z)))
    assert "generator_ema" not in model.compilable()
    model.nets["generator_ema"].train()
    model.train()
    assert not avg.training  # batch norm's running statistics are never updated in the average


@pytest.mark.parametrize("model_name", ["gan", "cdcgan"])
def test_generator_average_samples_with_its_own_batch_norm_statistics(model_name):
    """The average's batch-norm layers normalise with the statistics of the average's own activations, not
    the trained generator's (which belong to other weights), measured again after each generator update,
    from noise of their own: sampling neither draws from nor depends on the global random stream."""
    torch.manual_seed(0)
    model = _build([f"model={model_name}", "model.ema=0.9", "width=8", "z_dim=4", "lr=0.01", "n_layers=2"])
    avg = model.nets["generator_ema"]
    x, y = torch.rand(16, 1, 16, 16) * 2 - 1, torch.arange(16) % 10
    for _ in range(10):
        model.train_step(x, y)
    model.eval()
    labels = torch.arange(8) % 10 if model.conditional else None
    z = torch.randn(8, 4)
    state = torch.random.get_rng_state()
    first = model.sample(z, labels)
    assert torch.equal(torch.random.get_rng_state(), state)
    norm = next(m for m in avg.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    trained = next(m for m in model.nets["generator"].modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    seen = []
    handle = norm.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    noise_labels = torch.randint(10, (4096,)) if model.conditional else None
    avg(torch.randn(4096, 4), noise_labels)
    handle.remove()
    dims = [0] + list(range(2, seen[0].dim()))
    own_var = seen[0].var(dims)
    assert torch.allclose(norm.running_var, own_var, rtol=0.1)
    assert not torch.allclose(trained.running_var, own_var, rtol=0.1)
    assert torch.equal(model.sample(z, labels), first)  # measured once per generator update: same samples
    model.train()
    model.train_step(x, y)
    model.train_step(x, y)
    before = norm.running_var.clone()
    model.eval()
    model.sample(z, labels)
    assert not torch.equal(norm.running_var, before)


def test_cae_samples_from_a_mixture_fitted_to_its_codes():
    """Codes from two clusters (70 / 30 %) -> draws land in the clusters in those shares, with their spread;
    the same z gives the same draw, also after a checkpoint round trip; new training codes mean a new fit."""
    cfg = make_cfg(["model=cae", "device=cpu", "z_dim=4", "width=8", "model.gmm_components=2"])
    model = build_model(cfg, validate(cfg), (1, 16, 16), 10)
    gen = torch.Generator().manual_seed(0)
    centre = torch.tensor([6.0, 0.0, 0.0, 0.0])
    a = centre + 0.5 * torch.randn(7000, 4, generator=gen)
    b = -centre + torch.randn(3000, 4, generator=gen)
    model.mixture.codes.copy_(torch.cat([a, b])[torch.randperm(10_000, generator=gen)])
    model.mixture.n_seen = 10_000
    z = torch.randn(4000, 4, generator=gen)
    draws = model.mixture.draw(z)
    in_a = draws[:, 0] > 0
    assert abs(in_a.float().mean().item() - 0.7) < 0.03
    assert torch.allclose(draws[in_a].mean(0), centre, atol=0.1)
    assert torch.allclose(draws[in_a].std(0), torch.full((4,), 0.5), atol=0.05)
    assert torch.allclose(draws[~in_a].std(0), torch.ones(4), atol=0.1)
    assert torch.equal(model.mixture.draw(z[:5]), draws[:5])

    copy = build_model(cfg, validate(cfg), (1, 16, 16), 10)
    copy.load_state_dict(model.state_dict())
    assert torch.allclose(copy.mixture.draw(z[:5]), draws[:5], atol=1e-5)

    x = torch.rand(16, 1, 16, 16)
    model.train_step(x, torch.zeros(16, dtype=torch.long))  # 16 new codes near 0: the fit moves
    assert not torch.equal(model.mixture.draw(z[:5]), draws[:5])


def test_vae_samples_from_its_prior_unless_asked_for_the_mixture():
    """The default (sampler=prior) decodes z itself and keeps no codes; sampler=gmm decodes mixture draws
    fitted to the encoder's means of the batches it trained on."""
    x, y = torch.rand(32, 1, 16, 16), torch.zeros(32, dtype=torch.long)
    prior = _build(["model=vae", "z_dim=4", "width=8"])
    prior.train_step(x, y)
    prior.eval()
    z = torch.randn(6, 4)
    assert prior.mixture is None and not any(k.startswith("mixture") for k in prior.state_dict())
    assert torch.equal(prior.sample(z), prior.decode(z))
    gmm = _build(["model=vae", "z_dim=4", "width=8", "model.sampler=gmm"])
    with torch.no_grad():
        means = gmm.encode(x)  # in training mode, as the step sees them
    gmm.train_step(x, y)
    gmm.eval()
    assert gmm.mixture.n_seen == 32
    assert torch.allclose(gmm.mixture.codes[:32], means, atol=1e-5)
    assert torch.equal(gmm.sample(z), gmm.decode(gmm.mixture.draw(z)))


@pytest.mark.parametrize(
    "model,width,arch,expected",
    [
        ("wgan", 256, "mlp", 2e-4),
        ("wgan", 64, "mlp", 4e-4),
        ("wgan", 32, "mlp", 2e-4 * 8**0.5),
        ("wgan", 64, "conv", 2e-4),
        ("gan", 64, "mlp", 4e-4),
        ("wgan_gp", 64, "mlp", 4e-4),  # as given
    ],
)
def test_mlp_learning_rate_follows_width(model, width, arch, expected):
    built = _build([f"model={model}", f"width={width}", f"model.arch={arch}", "n_layers=2"])
    rates = [g["lr"] for opt in built.optims.values() for g in opt.param_groups]
    assert rates == pytest.approx([expected] * len(rates)) and built.lr == pytest.approx(expected)


@pytest.mark.parametrize(
    "overrides, other",
    [
        (["model=wgan"], None),  # a checkpoint of another layout: networks by name, counters under "extra"
        (["model=vae", "z_dim=4"], ["model=vae", "z_dim=4", "model.sampler=gmm"]),  # the other sampler's
    ],
)
def test_a_checkpoint_of_another_layout_is_refused_in_one_line(tmp_path, overrides, other):
    """A checkpoint this version did not write for this model is refused with one line naming the file and the
    fix."""
    model = _build([*overrides, "width=8"])
    state = model.training_state()
    if other is None:
        state = {"nets": {name: net.state_dict() for name, net in model.nets.items()}, "optims": state["optims"]}
    else:
        state = _build([*other, "width=8"]).training_state()
    path = tmp_path / "checkpoint.pt"
    fresh = _build([*overrides, "width=8"])
    identity = {"model": fresh.name}
    with pytest.raises(CheckpointError) as err:
        checkpoint.restore_model(path, {"identity": identity, "model": state}, identity, fresh)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "networks of another layout" in message, message
    assert message.endswith(checkpoint.RESUME_FIX)


@pytest.mark.slow
@pytest.mark.parametrize("sample_every, fits", [(1, 5), (5, 1)])
def test_a_run_fits_its_mixture_once_for_each_epoch_that_draws(tmp_path, monkeypatch, sample_every, fits):
    """Each fit is an EM run over up to 10,000 codes (docs/speed.md): a sample grid refits the mixture after new
    codes, FID and the end-of-run interpolations in the same epoch reuse that fit, and an epoch that draws
    nothing fits nothing, so trainer.sample_every=5 leaves one fit in five epochs."""
    from gensweep.models import expost

    calls = []
    fit = expost.fit_mixture

    def counted(codes, k, start=None):
        calls.append(len(codes))
        return fit(codes, k, start)

    monkeypatch.setattr(expost, "fit_mixture", counted)
    summary = train_run(
        tmp_path,
        [
            "model=vae",
            "model.sampler=gmm",
            "n_epochs=5",
            "metrics.every=5",
            f"trainer.sample_every={sample_every}",
            *SMOKE,
        ],
    )
    assert summary["status"] == "completed"
    assert math.isfinite(float(read_csv(tmp_path / "metrics.csv")[-1]["fid"]))  # FID drew from the mixture too
    assert len(calls) == fits, calls
