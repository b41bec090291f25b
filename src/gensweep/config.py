"""Checks on the composed config, before any data is loaded or any network built.

Each problem is one line naming the key, the value given and what is allowed; the CLI prints it instead of
a traceback.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class
from omegaconf import DictConfig

from gensweep import checks
from gensweep.errors import ConfigError
from gensweep.loggers import missing_package
from gensweep.models.base import PRECISIONS
from gensweep.models.nets import ARCHS, auto_conv_layers, max_conv_layers
from gensweep.placement import jobs_per_gpu_error
from gensweep.spec import RunSpec


def _check_probe_keys(probe: DictConfig) -> None:
    steps = probe.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ConfigError(
            f"metrics.probe.steps={steps!r} is invalid: an integer >= 0, 0 turns the probe off "
            "(e.g. metrics.probe.steps=200)"
        )
    for key, example in (("batch_size", "32"), ("width", "16"), ("n_train", "2000"), ("n_test", "1000")):
        checks.positive_int(f"metrics.probe.{key}", probe[key], example)
    checks.positive_float("metrics.probe.lr", probe.lr, "1e-3")
    checks.non_negative_float("metrics.probe.penalty", probe.penalty, "10")


def compose_config(overrides: list[str]) -> DictConfig:
    """gensweep's config with these overrides, as a run would compose it (for scripts that need the data)."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def sweep_jobs(experiment: str) -> list[list[str]]:
    """The overrides of every job of an experiment's sweep (conf/experiment/<name>.yaml's sweeper params, each
    comma list expanded as Hydra's basic sweeper does), in the sweep's order."""
    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser

    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        params = compose(config_name="config", overrides=[f"experiment={experiment}"], return_hydra_config=True)
    grid = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.hydra.sweeper.params.items()])
    choices = [[f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] for o in grid]
    return [list(job) for job in itertools.product(*choices)]


def missing_keys(saved: DictConfig) -> list[str]:
    """The keys this version's config has and a run folder's saved config lacks (the model's and the
    dataset's own keys aside): a run saved by another version, which this one does not read."""

    def keys(node: Any, prefix: str = "") -> set[str]:
        if not isinstance(node, DictConfig):
            return {prefix}
        return {k for name in node for k in keys(node._get_node(name), f"{prefix}{name}.")}

    current = compose_config([])
    ours = {k for k in keys(current) if not k.startswith(("model.", "dataset.", "hydra.", "logger."))}
    theirs = keys(saved)
    return sorted(k.rstrip(".") for k in ours - theirs)


def resolve_device(spec: Any) -> torch.device:
    text = str(spec)
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d+))?", text)
    if not match:
        raise ConfigError(f"device={text!r} is invalid: use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise ConfigError(
            f"device={text} is unavailable: this machine has no CUDA GPU visible to PyTorch; "
            "use device=cpu or device=auto"
        )
    index = int(match.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        choices = "cuda:0" if count == 1 else f"cuda:0 ... cuda:{count - 1}"
        raise ConfigError(
            f"device={text} is unavailable: this machine has {count} CUDA GPU{'s' * (count > 1)}; "
            f"use {choices} or device=auto"
        )
    return torch.device("cuda", index)


def model_class(cfg: DictConfig) -> type:
    target = cfg.model.get("_target_")
    try:
        return get_class(target)
    except (ImportError, ValueError) as err:
        raise ConfigError(f"model._target_={target!r} cannot be imported: {err}") from err


def validate(cfg: DictConfig) -> RunSpec:
    """Check the user-facing keys and return the run's spec; a problem raises ConfigError (one line)."""
    data = cfg.dataset
    size = checks.positive_int("dataset.image_size", data.image_size, "32")
    if size < 4:
        raise ConfigError(f"dataset.image_size={size} is invalid: images must be at least 4x4")
    checks.positive_int("dataset.channels", data.channels, "3")
    if data.get("subset") is not None:
        checks.positive_int("dataset.subset", data.subset, "256")
    z_dim = checks.positive_int("z_dim", cfg.z_dim, "50")
    width = checks.positive_int("width", cfg.width, "64")
    batch_size = checks.positive_int("batch_size", cfg.batch_size, "128")
    n_epochs = checks.positive_int("n_epochs", cfg.n_epochs, "20")
    lr = checks.positive_float("lr", cfg.lr, "2e-4")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise ConfigError(f"seed={cfg.seed!r} is invalid: must be a non-negative integer (e.g. seed=0)")
    cls = model_class(cfg)
    if getattr(cls, "conditional", False) and int(data.get("n_classes") or 0) < 2:
        raise ConfigError(
            f"model={cls.name} needs class labels and dataset={data.name} has n_classes={data.get('n_classes')}: "
            "pick a labelled dataset (CelebA: dataset.label_attribute=Smiling dataset.n_classes=2)"
        )
    cls.check_keys(cfg.model)
    arch = cfg.model.get("arch", cls.arch)
    if arch not in ARCHS:
        raise ConfigError(f"model.arch={arch!r} is invalid: use one of {', '.join(ARCHS)}")
    n_layers = cfg.n_layers
    if arch == "conv":
        deepest = max_conv_layers(size, size)
        if n_layers == "auto":
            n_layers = auto_conv_layers(size, size)
        checks.positive_int("n_layers", n_layers, "auto")
        if n_layers > deepest:
            raise ConfigError(
                f"n_layers={n_layers} is too deep for {size}x{size} images: each conv stage halves the image, "
                f"so at most n_layers={deepest} (or n_layers=auto)"
            )
    else:
        if n_layers == "auto":
            n_layers = 3
        checks.positive_int("n_layers", n_layers, "3")
    backbone = cfg.metrics.backbone
    if backbone not in ("classifier", "inception", "none"):
        raise ConfigError(f"metrics.backbone={backbone!r} is invalid: use classifier, inception or none")
    weights = cfg.metrics.get("inception_weights")
    if backbone == "inception" and weights and not Path(str(weights)).expanduser().is_file():
        raise ConfigError(
            f"metrics.inception_weights={weights}: no such file; pass the path of an Inception-v3 FID "
            "weights file, leave it null to download the weights, or use metrics.backbone=classifier"
        )
    metrics_every = checks.positive_int("metrics.every", cfg.metrics.every, "5")
    if checks.positive_int("metrics.n_samples", cfg.metrics.n_samples, "1000") < 2:
        raise ConfigError(
            "metrics.n_samples=1 is invalid: FID and KID need at least 2 images (e.g. metrics.n_samples=1000)"
        )
    checks.positive_int("metrics.kid_subsets", cfg.metrics.kid_subsets, "50")
    checks.positive_int("metrics.classifier_steps", cfg.metrics.classifier_steps, "1000")
    _check_probe_keys(cfg.metrics.probe)
    if cfg.trainer.eval_batches is not None:
        checks.positive_int("trainer.eval_batches", cfg.trainer.eval_batches, "8")
    checks.positive_int("trainer.sample_every", cfg.trainer.sample_every, "1")
    precision = str(cfg.trainer.get("precision", 32))
    if precision not in PRECISIONS:
        raise ConfigError(f"trainer.precision={precision} is invalid: use 32, bf16 or 16-mixed")
    for key in ("compile", "channels_last", "cudnn_benchmark"):
        if not isinstance(cfg.trainer.get(key, False), bool):
            raise ConfigError(f"trainer.{key}={cfg.trainer.get(key)!r} is invalid: use true or false")
    fraction = cfg.trainer.data_on_device_max_fraction
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        raise ConfigError(
            f"trainer.data_on_device_max_fraction={fraction!r} is invalid: a share of the GPU's free "
            "memory in [0, 1] (0 keeps the dataset in host memory; e.g. 0.25)"
        )
    problem = jobs_per_gpu_error(cfg.get("jobs_per_gpu", 1))
    if problem:
        raise ConfigError(problem)
    device = resolve_device(cfg.device)
    problem = missing_package(cfg.logger)
    if problem:
        raise ConfigError(problem)
    channels = int(data.channels)
    return RunSpec(
        model=cls.name,
        dataset=str(data.name),
        image_shape=(channels, size, size),
        n_classes=int(data.get("n_classes") or 0),
        z_dim=z_dim,
        n_layers=n_layers,
        width=width,
        lr=lr,
        batch_size=batch_size,
        n_epochs=n_epochs,
        seed=cfg.seed,
        metrics_every=metrics_every,
        device=device,
    )
