"""Invalid values stop before training with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import gensweep.conf
import pytest
import torch
import torch.nn as nn
from conftest import make_cfg, run_cli

from gensweep.config import model_class, validate
from gensweep.errors import ConfigError
from gensweep.models.build import build_model

CONF = Path(gensweep.conf.__file__).parent

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
    assert validate(make_cfg(["model=dcgan", "dataset.image_size=64", "n_layers=5"])).n_layers == 5
    assert validate(make_cfg(["model=dcgan", "dataset.image_size=64"])).n_layers == 4  # auto
    with pytest.raises(ConfigError, match="n_layers=6 is too deep for 64x64"):
        validate(make_cfg(["model=dcgan", "dataset.image_size=64", "n_layers=6"]))
    # The MLP GAN has no resolution limit on its hidden layers.
    assert validate(make_cfg(["model=gan", "n_layers=6"])).n_layers == 6


def _built(overrides: list[str]):
    cfg = make_cfg([*overrides, "device=cpu", "dataset.image_size=28"])  # MNIST's size
    return build_model(cfg, validate(cfg), (1, 28, 28), 10)


def _optimizer(model) -> tuple[type, float, tuple | None]:
    (kind,) = {type(o) for o in model.optims.values()}
    (group,) = {(g["lr"], g.get("betas")) for o in model.optims.values() for g in o.param_groups}
    return kind, *group


def _keyword_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword-only parameters the config must give a model's constructor chain: each class's own, plus
    its parents' except those it passes up itself (WGAN's n_critic becomes the parent's d_steps)."""
    found: dict[str, inspect.Parameter] = {}
    supplied: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        params = inspect.signature(init).parameters.values()
        found.update({p.name: p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in supplied})
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(init)))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
                supplied.update(k.arg for k in node.keywords if k.arg)
    return found


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONF / "model").glob("*.yaml")))
def test_model_files_are_the_only_defaults(name):
    """A model file lists every key its constructor takes and the constructor defaults none of them: what a run
    does is read from the YAML alone. Its model is then built from the file as it is."""
    cfg = make_cfg([f"model={name}", "device=cpu"])
    keys = set(cfg.model) - {"_target_"}
    params = _keyword_parameters(model_class(cfg))
    assert keys == set(params), f"model/{name}.yaml lists {sorted(keys)}; the constructor takes {sorted(params)}"
    defaulted = [k for k, p in params.items() if p.default is not inspect.Parameter.empty]
    assert not defaulted, f"{name}'s constructor defaults {defaulted}: the default belongs in model/{name}.yaml"
    spec = validate(cfg)
    assert build_model(cfg, spec, spec.image_shape, spec.n_classes).name == name


def test_each_model_file_builds_its_recipe():
    """The recipes the model files cite, read off the built networks and optimizers (docs/models.md)."""
    gan = _built(["model=gan"])
    widths = [m.out_features for m in gan.nets["generator"].modules() if isinstance(m, nn.Linear)]
    assert widths == [256, 512, 1024, 784]  # G 256-512-1024 (znxlwm's MLP GAN)
    assert [m.out_features for m in gan.nets["discriminator"].modules() if isinstance(m, nn.Linear)] == [
        1024,
        512,
        256,
        1,
    ]
    assert [m.p for m in gan.nets["discriminator"].modules() if isinstance(m, nn.Dropout)] == [0.3] * 3
    assert sum(isinstance(m, nn.BatchNorm1d) for m in gan.nets["generator"].modules()) == 3  # batch norm in G
    assert _optimizer(gan) == (torch.optim.Adam, 4e-4, (0.5, 0.999)) and "generator_ema" in gan.nets
    wgan = _built(["model=wgan"])
    assert _optimizer(wgan) == (torch.optim.RMSprop, 2e-4, None)  # 4x the paper's 5e-5 (docs/models.md)
    assert max(p.abs().max().item() for p in wgan.nets["discriminator"].parameters()) <= 0.01  # clipped from the start
    assert [wgan.critic_steps(g) for g in (0, 1, 500)] == [1, 1, 1]  # no warm-up by default
    assert [
        _built(["model=wgan", "model.n_critic=5", "model.warmup_g_steps=25", "model.refresh_every=500"]).critic_steps(g)
        for g in (0, 24, 25, 500)
    ] == [100, 100, 5, 100]  # the paper's schedule
    gp = _built(["model=wgan_gp"])
    assert _optimizer(gp) == (torch.optim.Adam, 4e-4, (0.5, 0.999)) and gp.penalty == 10 and gp.critic_steps(0) == 1
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in gp.nets["discriminator"].modules())
    dcgan = _built(["model=dcgan"])
    assert _optimizer(dcgan) == (torch.optim.Adam, 2e-4, (0.5, 0.999))
    assert (
        sum(isinstance(m, nn.ConvTranspose2d) for m in dcgan.nets["generator"].modules()) == 3
    )  # 4 -> 8 -> 16 -> 32, cropped to 28
    for name in ("vae", "cae"):
        assert _optimizer(_built([f"model={name}"])) == (torch.optim.Adam, 1e-3, (0.9, 0.999))
    # The command line wins over a model file's defaults.
    assert _optimizer(_built(["model=gan", "lr=0.01"]))[1] == 0.01


def _built_colour(overrides: list[str]):
    cfg = make_cfg([*overrides, "device=cpu"])
    return build_model(cfg, validate(cfg), (3, 32, 32), 10)


def test_colour_photos_get_their_recipe():
    """conf/dataset_model/ changes a model on 32x32 colour photos only, and the command line still wins."""

    def last_layer_inputs(model) -> int:
        return [m for m in model.nets["discriminator"].modules() if isinstance(m, nn.Linear)][-1].in_features

    for dataset in ("cifar10", "svhn"):
        for name in ("gan", "wgan"):  # minibatch standard deviation: one more input to D's last layer
            assert last_layer_inputs(_built_colour([f"model={name}", f"dataset={dataset}"])) == 257, (dataset, name)
        assert _built_colour(["model=vae", f"dataset={dataset}"]).mixture is not None  # samples from the mixture
    assert last_layer_inputs(_built(["model=gan", "dataset=mnist"])) == 256
    assert _built(["model=vae", "dataset=mnist"]).mixture is None
    assert last_layer_inputs(_built_colour(["model=gan", "dataset=cifar10", "model.minibatch_std=false"])) == 256
    assert _built_colour(["model=vae", "dataset=cifar10", "model.sampler=prior"]).mixture is None
    # Every recipe names a dataset and a model that exist (a renamed one would leave it unread).
    conf = Path(gensweep.conf.__file__).parent
    options = {group: {p.stem for p in (conf / group).glob("*.yaml")} for group in ("dataset", "model")}
    for recipe in (conf / "dataset_model").glob("*.yaml"):
        assert any(recipe.stem == f"{d}_{m}" for d in options["dataset"] for m in options["model"]), recipe.name


@pytest.mark.slow
def test_cli_unknown_model_lists_the_choices_in_one_line(tmp_path):
    proc = run_cli(["model=transformer"], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("gensweep: error: model=transformer is not a known model: use one of ")
    listed = proc.stderr.strip().rsplit("use one of ", 1)[1].split(", ")
    assert listed == ["cae", "cdcgan", "dcgan", "gan", "vae", "wgan", "wgan_gp"]
