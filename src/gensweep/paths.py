"""Where run folders go, and which one `resume` continues (Hydra resolvers for hydra.run/sweep.dir).

A command that trains gets its resume folder from gensweep.resume before Hydra starts (as hydra.run.dir /
hydra.sweep.dir), so these resolvers only place fresh runs and answer commands that train nothing
(`--cfg job`, `--help`). They never fail: when nothing fits they give a fresh folder (an exception here would
surface as a Hydra traceback).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from gensweep.files import CHECKPOINT
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
    """RUNS/stamp, or the folder to continue: the newest run with a checkpoint, or the given path."""
    mode = resume_mode(resume)
    if mode == "latest":
        found = sorted(Path(RUNS).glob(f"*/*/{CHECKPOINT}"))
        if found:
            return str(found[-1].parent)
    elif mode == "path":
        path = Path(str(resume)).expanduser()
        if (path / CHECKPOINT).is_file():
            return str(path)
    return f"{RUNS}/{stamp}"


def sweep_dir(resume: Any, stamp: str) -> str:
    """SWEEPS/stamp, or the sweep to continue: the newest one (resume=true) or the given path."""
    mode = resume_mode(resume)
    if mode == "latest":
        found = sorted(p for p in Path(SWEEPS).glob("*/*") if p.is_dir())
        if found:
            return str(found[-1])
    elif mode == "path" and Path(str(resume)).expanduser().is_dir():
        return str(Path(str(resume)).expanduser())
    return f"{SWEEPS}/{stamp}"


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
