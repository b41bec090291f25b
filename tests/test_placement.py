"""Sweeps on GPUs without a GPU: which device each job gets and how many jobs run at once, with the GPU count
faked. The real thing (a joblib sweep sharing the GPU) is in test_cuda.py."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from gensweep import placement
from gensweep.config import resolve_device
from gensweep.errors import ConfigError
from gensweep.paths import register_resolvers


@pytest.mark.parametrize(
    "device, gpus, expected",
    [
        ("auto", 2, ["cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0", "cuda:1"]),
        ("cuda", 3, ["cuda:0", "cuda:1", "cuda:2", "cuda:0", "cuda:1", "cuda:2"]),
        ("auto", 1, ["cuda:0"] * 6),
        ("auto", 0, ["auto"] * 6),  # no GPU: auto stays auto (the CPU)
        ("cpu", 4, ["cpu"] * 6),
        ("cuda:1", 4, ["cuda:1"] * 6),  # a GPU named by the user: every job there
    ],
)
def test_sweep_jobs_take_the_gpus_in_turn(device, gpus, expected):
    assert [placement.job_device(device, job, gpus) for job in range(6)] == expected


def _launcher_jobs(monkeypatch, gpus: int, overrides: list[str]) -> int:
    """hydra.launcher.n_jobs as Hydra composes it for `overrides` with `gpus` GPUs visible."""
    monkeypatch.setattr(placement, "gpu_count", lambda: gpus)
    register_resolvers()
    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=["hydra/launcher=joblib", "device=auto", *overrides],
            return_hydra_config=True,
        )
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)["n_jobs"]


def test_jobs_per_gpu_sets_how_many_jobs_run_at_once(monkeypatch):
    monkeypatch.delenv("GENSWEEP_JOBS", raising=False)
    assert _launcher_jobs(monkeypatch, 1, ["jobs_per_gpu=4"]) == 4  # four small runs share the GPU
    assert _launcher_jobs(monkeypatch, 2, ["jobs_per_gpu=4"]) == 8  # four on each of two
    assert _launcher_jobs(monkeypatch, 2, []) == 2  # default: one per GPU
    assert _launcher_jobs(monkeypatch, 2, ["jobs_per_gpu=3", "device=cuda:1"]) == 3  # all on one GPU
    assert _launcher_jobs(monkeypatch, 2, ["jobs_per_gpu=4", "device=cpu"]) == placement.CPU_JOBS
    assert _launcher_jobs(monkeypatch, 0, ["jobs_per_gpu=4"]) == placement.CPU_JOBS
    monkeypatch.setenv("GENSWEEP_JOBS", "3")
    assert _launcher_jobs(monkeypatch, 2, ["jobs_per_gpu=4"]) == 3  # the environment wins


def test_a_gpu_past_the_last_is_named_with_the_ones_there(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(
        ConfigError, match=r"^device=cuda:1 is unavailable: this machine has 1 CUDA GPU; use cuda:0 or device=auto$"
    ):
        resolve_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    with pytest.raises(ConfigError, match=r"has 8 CUDA GPUs; use cuda:0 \.\.\. cuda:7"):
        resolve_device("cuda:8")
