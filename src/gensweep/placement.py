"""Which device each job of a sweep trains on, and how many jobs the joblib launcher runs at once.

A run of an MNIST-sized model uses a few percent of a modern GPU, so a sweep can put several jobs on each GPU:
`jobs_per_gpu=k` runs k x (GPUs visible) jobs at once, and job number i trains on GPU i mod (GPUs visible), so
that the jobs running together are spread k to a GPU while they take about as long as each other (joblib hands
the next job to whichever worker is free first, so a sweep of very unequal runs can put more than k on one).
On a CPU-only machine the joblib launcher runs 2 jobs at once (GENSWEEP_JOBS=n or hydra.launcher.n_jobs=n
overrides either count).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

CPU_JOBS = 2


def gpu_count() -> int:
    """CUDA devices visible to PyTorch (0 without a GPU); does not initialise CUDA. Without an NVIDIA driver
    (no nvidia-smi) it is 0 without importing torch, so a CPU machine's launching process never loads it."""
    if shutil.which("nvidia-smi") is None and not os.environ.get("CUDA_VISIBLE_DEVICES"):
        return 0
    import torch

    return torch.cuda.device_count()


def jobs_per_gpu_error(value: Any) -> str | None:
    """Why `value` is not a valid jobs_per_gpu, or None."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return f"jobs_per_gpu={value!r} is invalid: must be a positive integer (e.g. jobs_per_gpu=4)"
    return None


def launcher_jobs(device: Any, jobs_per_gpu: Any) -> int:
    """The joblib launcher's n_jobs: GENSWEEP_JOBS if set; jobs_per_gpu on each GPU the sweep's jobs use
    (all visible ones for device=auto or cuda, one for cuda:N); else CPU_JOBS."""
    env = os.environ.get("GENSWEEP_JOBS")
    if env:
        return int(env)  # checked by gensweep.start_checks before Hydra resolves this
    spec = str(device)
    n_gpus = gpu_count() if spec in ("auto", "cuda") or spec.startswith("cuda:") else 0
    if n_gpus == 0 or jobs_per_gpu_error(jobs_per_gpu):
        return CPU_JOBS
    return int(jobs_per_gpu) * (1 if spec.startswith("cuda:") else n_gpus)


def job_device(device: Any, job_num: int, n_gpus: int) -> str:
    """A sweep job's device: with device=auto or cuda and GPUs visible, GPU job_num mod n_gpus (cuda:0,
    cuda:1, ..., then cuda:0 again); any other device as given."""
    spec = str(device)
    if spec not in ("auto", "cuda") or n_gpus == 0:
        return spec
    return f"cuda:{job_num % n_gpus}"
