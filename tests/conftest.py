"""Shared helpers: compose gensweep's real config in-process, or run the real CLI in a process of its own."""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cli_process
import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from gensweep.job import train

# Under pytest-xdist (-n 2), each worker and the processes it starts train on one thread: two workers of two
# threads each on two cores would oversubscribe them.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    torch.set_num_threads(1)

# Datasets' caches and the FID classifier go to one temporary folder per test session (trained once there),
# removed when the session's process ends.
os.environ["GENSWEEP_DATA"] = tempfile.mkdtemp(prefix="gensweep-data-")
atexit.register(shutil.rmtree, os.environ["GENSWEEP_DATA"], ignore_errors=True)

# Tests train on the CPU unless they name a device: on a GPU machine too, where runs on the GPU would not
# be bit-for-bit repeatable. Subprocesses inherit it.
os.environ["GENSWEEP_DEVICE"] = "cpu"

# Tests marked `cuda` run on the GPU and are skipped where PyTorch sees none; GENSWEEP_TEST_GPU=cpu runs them on
# the CPU instead (benchmarks/gpu_check.sh --dry-run does, so that their code is exercised without a GPU).
GPU = "cpu" if os.environ.get("GENSWEEP_TEST_GPU") == "cpu" else "cuda"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if GPU == "cpu" or torch.cuda.is_available():
        return
    skip = pytest.mark.skip(
        reason="needs a CUDA GPU: none is visible to PyTorch (GENSWEEP_TEST_GPU=cpu runs it on the CPU)"
    )
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def on_device(device: str) -> str:
    """The device a device-parametrised test trains on: `cuda` becomes the CPU under GENSWEEP_TEST_GPU=cpu."""
    return GPU if device == "cuda" else device


# Every device a device-parametrised test runs on; the cuda one is skipped without a GPU.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]

# Fast settings for smoke runs (conf/debug/smoke.yaml): a 128-image subset, small FID settings, no progress bars.
SMOKE = ["debug=smoke"]


def make_cfg(overrides: list[str]) -> DictConfig:
    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def train_run(run_dir: Path, overrides: list[str], resume: bool = False) -> dict:
    cfg = make_cfg(overrides + (["resume=true"] if resume else []))
    run_dir.mkdir(parents=True, exist_ok=True)
    return train(cfg, run_dir)


def tree_hash(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`, with the hash of each file's bytes: a refusal must leave it equal."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


# run_cli's processes fork from one warm interpreter per test process (tests/cli_process.py)
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload([*cli_process.WARM, "cli_process"])


def run_cli(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m gensweep args` in `cwd`, in a process of its own: its exit code, stdout and stderr."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HYDRA_FULL_ERROR": "0"}
    command = [sys.executable, "-m", "gensweep", *args]
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        proc = _FORKSERVER.Process(target=cli_process.run, args=(list(args), str(cwd), env, str(out), str(err)))
        proc.start()
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired(command, timeout)
        return subprocess.CompletedProcess(command, proc.exitcode, out.read_text(), err.read_text())


@pytest.fixture
def cfg_factory():
    return make_cfg
