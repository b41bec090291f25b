"""Where run folders go (Hydra resolvers for hydra.run.dir and hydra.sweep.dir).

Which run or sweep a resume continues is decided once, in gensweep.resume (from the start checks, before Hydra
makes a folder); it points hydra.run.dir / hydra.sweep.dir at that folder. These resolvers only place fresh
runs and answer commands that train nothing (`--cfg job`, `--help`), and never fail (an exception here would be
a Hydra traceback).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from gensweep.placement import launcher_jobs

RUNS = "outputs/runs"
SWEEPS = "outputs/multirun"


def discard_if_unused(run_dir: Path) -> None:
    """Remove a run folder that a refused or interrupted start left with nothing but Hydra's record and a log,
    and the outputs/, runs/ and date folders above it that are left empty."""
    if not (run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= {".hydra", "gensweep.log"}):
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    outputs = Path(RUNS).parent.absolute()
    for parent in run_dir.absolute().parents:
        if not parent.is_relative_to(outputs) or any(parent.iterdir()):
            break
        try:
            parent.rmdir()
        except OSError:  # another run made its folder here meanwhile
            break


def resume_mode(resume: Any) -> str:
    """'off', 'latest' (resume=true) or 'path' (resume=<folder>)."""
    text = str(resume).lower()
    if resume is None or resume is False or text in ("false", "none", "null"):
        return "off"
    return "latest" if resume is True or text == "true" else "path"


def run_dir(resume: Any, stamp: str) -> str:
    """RUNS/stamp, or the folder resume=<folder> names. Which run resume=true continues is decided in
    gensweep.resume, which sets hydra.run.dir before Hydra makes the folder."""
    return str(Path(str(resume)).expanduser()) if resume_mode(resume) == "path" else f"{RUNS}/{stamp}"


def sweep_dir(resume: Any, stamp: str) -> str:
    """SWEEPS/stamp, or the folder resume=<folder> names (resume=true: gensweep.resume sets hydra.sweep.dir)."""
    return str(Path(str(resume)).expanduser()) if resume_mode(resume) == "path" else f"{SWEEPS}/{stamp}"


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("gensweep_run_dir", run_dir, replace=True)
    OmegaConf.register_new_resolver("gensweep_sweep_dir", sweep_dir, replace=True)
    OmegaConf.register_new_resolver("gensweep_launcher_jobs", launcher_jobs, replace=True)


def plugin_installed(module: str) -> bool:
    """Whether a Hydra plugin module (e.g. hydra_plugins.hydra_joblib_launcher) can be imported."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # no hydra_plugins package at all
        return False
