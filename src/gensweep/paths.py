"""Where run folders go, and which one `resume=true` continues (Hydra resolvers for hydra.run/sweep.dir)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

CHECKPOINT = "checkpoint.pt"


def _wants_resume(resume: Any) -> bool:
    return resume is True or str(resume).lower() == "true"


def _latest(base: Path, pattern: str) -> Path | None:
    found = sorted(base.glob(pattern))
    return found[-1].parent if found else None


def run_dir(resume: Any, base: str, stamp: str) -> str:
    """A new `base/stamp` folder, the newest run under `base` with a checkpoint (resume=true), or a path."""
    if resume in (None, False) or str(resume).lower() == "false":
        return f"{base}/{stamp}"
    if _wants_resume(resume):
        latest = _latest(Path(base), f"*/*/{CHECKPOINT}")
        if latest is None:
            raise ValueError(f"resume=true: no run folder with a {CHECKPOINT} under {base}/; start a fresh run without resume")
        return str(latest)
    return str(Path(str(resume)).expanduser())


def sweep_dir(resume: Any, base: str, stamp: str) -> str:
    """A new `base/stamp` sweep folder, or with resume=true the newest sweep under `base` (its jobs resume)."""
    if _wants_resume(resume):
        latest = sorted(p for p in Path(base).glob("*/*") if p.is_dir())
        if not latest:
            raise ValueError(f"resume=true: no sweep folder under {base}/; start the sweep without resume")
        return str(latest[-1])
    if resume in (None, False) or str(resume).lower() == "false":
        return f"{base}/{stamp}"
    return str(Path(str(resume)).expanduser())


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("gensweep_run_dir", run_dir, replace=True)
    OmegaConf.register_new_resolver("gensweep_sweep_dir", sweep_dir, replace=True)
