"""Invalid values stop before training with one line naming the key, the value and what is allowed."""
from __future__ import annotations

import pytest
import torch

from conftest import make_cfg, run_cli
from gensweep.config import validate
from gensweep.errors import ConfigError

BAD = [
    ("z_dim=0", "z_dim=0", "positive integer"),
    ("z_dim=-3", "z_dim=-3", "positive integer"),
    ("z_dim=abc", "z_dim='abc'", "positive integer"),
    ("width=0", "width=0", "positive integer"),
    ("width=1.5", "width=1.5", "positive integer"),
    ("batch_size=0", "batch_size=0", "positive integer"),
    ("batch_size=-1", "batch_size=-1", "positive integer"),
    ("n_epochs=0", "n_epochs=0", "positive integer"),
    ("lr=0", "lr=0", "positive number"),
    ("lr=fast", "lr='fast'", "positive number"),
    ("n_layers=0", "n_layers=0", "positive integer"),
    ("n_layers=4", "n_layers=4 is too deep for 16x16", "at most n_layers=3"),
    ("device=tpu", "device='tpu'", "auto, cpu, cuda or cuda:N"),
    ("model=gan model.dropout=1", "model.dropout=1", "a probability in [0, 1)"),
    ("model=gan model.ema=1.5", "model.ema=1.5", "decay in [0, 1)"),
    ("model=wgan model.g_norm=layer", "model.g_norm='layer'", "batch or none"),
    ("model=wgan model.warmup_g_steps=-1", "model.warmup_g_steps=-1", "integer >= 0"),
    ("model=cae model.gmm_components=0", "model.gmm_components=0", "positive integer"),
    ("model=gan model.lr_width_ref=0", "model.lr_width_ref=0", "positive integer"),
    ("model=vae model.sampler=flow", "model.sampler='flow'", "use prior (z ~ N(0, I)) or gmm"),
    ("jobs_per_gpu=0", "jobs_per_gpu=0", "positive integer"),
    ("trainer.data_on_device_max_fraction=1.5", "trainer.data_on_device_max_fraction=1.5", "in [0, 1]"),
]


@pytest.mark.parametrize("override,names,allowed", BAD)
def test_invalid_value_is_named(override, names, allowed):
    with pytest.raises(ConfigError) as err:
        validate(make_cfg(override.split()))
    message = str(err.value)
    assert names in message and allowed in message
    assert "\n" not in message


def test_depth_limit_depends_on_image_size():
    assert validate(make_cfg(["model=dcgan", "dataset.image_size=64", "n_layers=5"]))["n_layers"] == 5
    assert validate(make_cfg(["model=dcgan", "dataset.image_size=64"]))["n_layers"] == 4  # auto
    with pytest.raises(ConfigError, match="n_layers=6 is too deep for 64x64"):
        validate(make_cfg(["model=dcgan", "dataset.image_size=64", "n_layers=6"]))
    # The MLP GAN has no resolution limit on its hidden layers.
    assert validate(make_cfg(["model=gan", "n_layers=6"]))["n_layers"] == 6


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_gpu_is_refused():
    with pytest.raises(ConfigError, match="device=cuda is unavailable.*device=cpu"):
        validate(make_cfg(["device=cuda"]))


def test_literature_defaults():
    gan = make_cfg(["model=gan"])
    assert gan.lr == 4e-4 and list(gan.model.betas) == [0.5, 0.999] and gan.model.d_steps == 1
    assert gan.model.dropout == 0.3 and gan.model.g_norm == "batch" and gan.model.ema == 0.999
    assert (gan.z_dim, gan.n_layers, gan.width) == (100, 3, 256)  # G 256-512-1024, D 1024-512-256
    wgan = make_cfg(["model=wgan"])
    assert wgan.model.clip == 0.01 and wgan.model.n_critic == 1
    assert wgan.lr == 2e-4  # 4x the paper's 5e-5 (docs/models.md says why)
    assert wgan.model.warmup_critic_steps == 100 and wgan.model.warmup_g_steps == 0  # the paper's: =25
    gp = make_cfg(["model=wgan_gp"])
    assert gp.lr == 1e-4 and list(gp.model.betas) == [0.5, 0.9] and gp.model.penalty == 10 and gp.model.n_critic == 1
    assert make_cfg(["model=dcgan"]).lr == 2e-4
    assert make_cfg(["model=vae"]).lr == 1e-3 and make_cfg(["model=cae"]).lr == 1e-3
    # The command line wins over a model file's defaults.
    assert make_cfg(["model=gan", "lr=0.01", "z_dim=7"]).lr == 0.01


def test_cli_unknown_model_lists_the_choices_in_one_line(tmp_path):
    proc = run_cli(["model=transformer"], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("gensweep: error: model=transformer is not a known model: use one of ")
    listed = proc.stderr.strip().rsplit("use one of ", 1)[1].split(", ")
    assert listed == ["cae", "cdcgan", "dcgan", "gan", "vae", "wgan", "wgan_gp"]
