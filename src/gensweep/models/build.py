"""Building a model from the composed config: the one place that turns `model._target_` and the validated
top-level keys into a `GenerativeModel`, refusing one that cannot fit in memory."""

from __future__ import annotations

from pathlib import Path

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from gensweep.errors import ConfigError
from gensweep.models.base import GenerativeModel
from gensweep.spec import RunSpec


def build_model(cfg: DictConfig, spec: RunSpec, image_shape: tuple[int, int, int], n_classes: int) -> GenerativeModel:
    """Instantiate `model._target_` with the run's spec and the data's shape, after `model_outline` has checked
    that its weights and optimizer state fit in the device's memory."""
    model_outline(cfg, spec, image_shape, n_classes)
    return _instantiate(cfg, spec, image_shape, n_classes, spec.device)


def model_outline(cfg: DictConfig, spec: RunSpec, image_shape: tuple[int, int, int], n_classes: int) -> GenerativeModel:
    """The model built on the meta device (no memory, no random draws): its parameters counted, it is refused
    when its weights and optimizer state cannot fit in `spec.device`'s memory, before anything is allocated (a
    huge `width` otherwise fills memory first); what the disk check counts too."""
    with torch.device("meta"):
        outline = _instantiate(cfg, spec, image_shape, n_classes, torch.device("meta"))
    n_params = outline.n_parameters()
    need = 16 * n_params  # float32 weights, gradients and Adam's two moments
    have = available_memory(spec.device)
    if have is not None and need > have:
        raise ConfigError(
            f"model={_name(cfg)} with {spec.settings} has {n_params:,} parameters: {need / 2**30:,.1f} GiB for "
            f"weights, gradients and optimizer state, more than the {have / 2**30:,.1f} GiB of "
            f"{'free GPU' if spec.device.type == 'cuda' else 'available'} memory; lower width or z_dim"
        )
    return outline


def _name(cfg: DictConfig) -> str:
    return cfg.model._target_.rsplit(".", 1)[-1]


def _instantiate(
    cfg: DictConfig, spec: RunSpec, image_shape: tuple[int, int, int], n_classes: int, device: torch.device
) -> GenerativeModel:
    try:
        return instantiate(
            cfg.model,
            _convert_="all",
            image_shape=image_shape,
            n_classes=n_classes,
            z_dim=spec.z_dim,
            n_layers=spec.n_layers,
            width=spec.width,
            lr=spec.lr,
            device=device,
        )
    except InstantiationException as err:  # say which settings, not a traceback
        cause = err.__cause__ or err
        raise ConfigError(
            f"model={_name(cfg)} cannot be built with {spec.settings} ({type(cause).__name__}: {cause}); "
            "lower width or z_dim, or check the model.* keys"
        ) from err


def available_memory(device: torch.device) -> int | None:
    """Bytes free for a model on `device`: the GPU's free memory, or the host's available memory (Linux's
    MemAvailable); None where that cannot be read."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    meminfo = Path("/proc/meminfo")
    if device.type == "cpu" and meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None
