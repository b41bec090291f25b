"""The bad-input table (docs/reliability.md, "Bad input"): each case stops before training with a message naming the key
or path, a non-zero exit, no traceback, and nothing left that a later resume could take for progress.

Run end to end through the command line, one case per kind of check; test_config.py checks every key's values
against validate() directly, without a process each."""

from __future__ import annotations

import pytest
import torch
from conftest import run_cli

CASES = [
    (["dataset=imagenet"], "dataset=imagenet is not a known dataset: use one of celeba, celeba_smiling, cifar10"),
    (
        ["model=vae,gann", "-m"],
        "model=gann is not a known model: use one of cae, cdcgan, dcgan, gan, vae, wgan, wgan_gp",
    ),
    (["z_dim=abc"], "z_dim='abc' is invalid: must be a positive integer"),
    (["model=vae,gan"], "model=vae,gan lists several values: add -m to sweep over them (one run each)"),
    (
        ["zdim=8"],
        "zdim is not a config key: check its spelling (python -m gensweep --cfg job lists every key), "
        "or add it as a new key with +zdim=8",
    ),
    (["n_layers=9"], "n_layers=9 is too deep for 16x16 images"),
    (["n_layers=-1"], "n_layers=-1 is invalid"),
    (["lr=abc"], "lr='abc' is invalid: must be a positive number"),
    (["n_epochs=1.5"], "n_epochs=1.5 is invalid"),
    (["seed=-1"], "seed=-1 is invalid"),
    (["device=cuda"], "device=cuda is unavailable: this machine has no CUDA GPU"),  # skipped where there is one
    (["model=vae,gan", "jobs_per_gpu=two", "-m"], "jobs_per_gpu='two' is invalid: must be a positive integer"),
    (["batch_size=5000"], "batch_size=5000 is larger than the training set (1438 images)"),
    (["dataset=mnist", "dataset.root={file}"], "is a file, not a folder"),
    (
        ["dataset=mnist", "dataset.root={empty}", "dataset.download=false"],
        "MNIST files not found under {empty}. Set dataset.download=true to fetch them, "
        "point paths.data_dir= (or GENSWEEP_DATA)",
    ),
    (["hydra.run.dir={file}/run"], "hydra.run.dir={file}/run cannot be created"),
    (["metrics.backbone=resnet"], "metrics.backbone='resnet' is invalid"),
    (["logger=comet"], "logger=comet is not a known logger: use one of csv, mlflow, tensorboard, wandb"),
    (["resume={empty}"], "resume={empty}: {empty} has no checkpoint.pt"),
    (["resume=no/such/run"], "resume=no/such/run: no such folder"),
    (["model=wgan", "model.n_critic=0"], "model.n_critic=0 is invalid: must be a positive integer"),
    (["model=wgan", "model.clip=-1"], "model.clip=-1 is invalid: must be a positive number"),
    (["model=gan", "model.betas=[1]"], "model.betas=[1] is invalid: Adam's betas are two numbers in [0, 1)"),
    (["metrics.n_samples=1"], "metrics.n_samples=1 is invalid: FID and KID need at least 2 images"),
    (["width=100000000"], "model=VAE with z_dim=20 n_layers=2 width=100000000 has 640,000,196,300,000,041 parameters"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args,expected", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_clear_error(tmp_path, args, expected):
    if args == ["device=cuda"] and torch.cuda.is_available():
        pytest.skip("checks the message on a machine without CUDA")
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "empty").mkdir()
    fill = {"file": str(tmp_path / "a_file"), "empty": str(tmp_path / "empty")}
    args = [a.format(**fill) for a in args]
    n_epochs = [] if any(a.startswith("n_epochs=") for a in args) else ["n_epochs=1"]
    proc = run_cli([*args, *n_epochs, "trainer.progress=false"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    assert expected.format(**fill) in proc.stderr, proc.stderr
    if proc.returncode == 2:  # gensweep's own checks: the error is the first line, prefixed
        assert proc.stderr.startswith("gensweep: error: ")
    assert not list(tmp_path.rglob("checkpoint.pt")) and not list(tmp_path.rglob("metrics.csv"))
    assert not (tmp_path / "outputs").exists()  # no empty run folder, nor the date folder above it


def test_a_model_too_large_for_free_memory_is_refused_before_it_is_allocated(monkeypatch):
    """The size check counts the real parameters (built on the meta device) against the free memory."""
    import torch
    from conftest import make_cfg

    import gensweep.models.build
    from gensweep.config import validate
    from gensweep.errors import ConfigError
    from gensweep.models.build import build_model

    cfg = make_cfg(["model=gan", "device=cpu", "width=64"])
    spec = validate(cfg)
    model = build_model(cfg, spec, (1, 16, 16), 10)
    n_params = sum(p.numel() for net in model.nets.values() for p in net.parameters())
    assert all(p.device.type == "cpu" for net in model.nets.values() for p in net.parameters())
    monkeypatch.setattr(gensweep.models.build, "available_memory", lambda device: 16 * n_params)  # exactly enough
    build_model(cfg, spec, (1, 16, 16), 10)
    monkeypatch.setattr(gensweep.models.build, "available_memory", lambda device: 16 * n_params - 1)
    state = torch.random.get_rng_state()
    with pytest.raises(ConfigError, match=f"has {n_params:,} parameters: .* GiB .*; lower width or z_dim"):
        build_model(cfg, spec, (1, 16, 16), 10)
    assert torch.equal(torch.random.get_rng_state(), state)  # the refused probe drew no random numbers
