"""Which run a single `resume=...` continues, chosen and checked before Hydra starts.

Hydra writes its record (`.hydra/`) and the log into the run folder as soon as it starts the job, so a
resume refused inside the job would already have changed the folder it refused. Here the command's config is
composed first and the candidate's checkpoint loaded into the model the command builds; only a folder that
passes is handed to Hydra (as hydra.run.dir), and its earlier `.hydra/` record is kept as `.hydra.<n>`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from gensweep.config import ConfigError, model_class, validate
from gensweep.paths import CHECKPOINT, RUNS, resume_mode


def identity(cfg: DictConfig, values: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint must match to be continued by this config (the settings that shape the networks)."""
    data = cfg.dataset
    return {
        "model": model_class(cfg).name,
        "dataset": str(data.name),
        "image_shape": [int(data.channels), int(data.image_size), int(data.image_size)],
        "z_dim": values["z_dim"],
        "n_layers": values["n_layers"],
        "width": values["width"],
    }


def check_run(run: Path, cfg: DictConfig, values: dict[str, Any]) -> None:
    """Raise CheckpointError (one line) unless `run`'s checkpoint loads into the model this config builds."""
    import torch

    from gensweep.job import build_model
    from gensweep.train import checkpoint

    path = run / CHECKPOINT
    state = checkpoint.load(path)
    ident = identity(cfg, values)
    cpu = {**values, "device": torch.device("cpu")}
    model = build_model(cfg, cpu, tuple(ident["image_shape"]), int(cfg.dataset.n_classes))
    checkpoint.restore_model(path, state, ident, model)


def choose(cfg: DictConfig) -> Path:
    """The folder `cfg.resume` continues: the given one, or (resume=true) the newest run under RUNS that fits.

    Raises ConfigError / CheckpointError with one line saying what was found and why nothing fits."""
    from gensweep.train.checkpoint import CheckpointError

    values = validate(cfg)
    if resume_mode(cfg.resume) == "path":
        run = Path(str(cfg.resume)).expanduser()
        if not run.exists():
            raise ConfigError(f"resume={cfg.resume}: no such folder; pass a run folder (outputs/runs/<date>/<time>) "
                              "or resume=true for the newest run of these settings")
        if not (run / CHECKPOINT).is_file():
            raise ConfigError(f"resume={cfg.resume}: {cfg.resume} has no {CHECKPOINT} to continue from; start without resume")
        check_run(run, cfg, values)
        return run
    runs = sorted((p.parent for p in Path(RUNS).glob(f"*/*/{CHECKPOINT}")), reverse=True)
    if not runs:
        raise ConfigError(f"resume=true: no run folder under {RUNS}/ has a {CHECKPOINT} to continue from; "
                          "start without resume")
    reasons = []
    for run in runs:
        try:
            check_run(run, cfg, values)
            return run
        except CheckpointError as err:
            reasons.append(f"{run.relative_to(RUNS)} ({_why(err, run)})")
    ident = identity(cfg, values)
    wanted = f"model={ident['model']} dataset={ident['dataset']} z_dim={ident['z_dim']} n_layers={ident['n_layers']} width={ident['width']}"
    shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
    raise ConfigError(f"resume=true: no run under {RUNS}/ fits {wanted}; found {shown}; "
                      "pass resume=<folder>, or start without resume")


def _why(err: Exception, run: Path) -> str:
    text = str(err)
    if "belongs to a different run (" in text:
        return "other settings: " + text.split("belongs to a different run (", 1)[1].split(")", 1)[0]
    if "another layout" in text:
        return "networks of an older layout"
    return "unreadable checkpoint"


def keep_record(run: Path) -> Path | None:
    """Move the run's `.hydra/` record aside as `.hydra.<n>` (the next free n), so the resume's own record
    does not overwrite it; returns where it went."""
    record = run / ".hydra"
    if not record.is_dir():
        return None
    n = 1
    while (run / f".hydra.{n}").exists():
        n += 1
    kept = run / f".hydra.{n}"
    record.rename(kept)
    return kept
