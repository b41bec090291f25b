"""Which run or sweep `resume=...` continues, chosen and checked on the composed config before Hydra writes.

Hydra writes its record (`.hydra/`, `multirun.yaml`) and the log into the run or sweep folder as soon as it
makes it, so a resume refused inside a job would already have changed the folder it refused. These run from
gensweep.start_checks (a Hydra callback), after Hydra composes the command and before it makes the folder:
- a single run (`continue_run`): the run's checkpoint must load into the model the config builds; for
  resume=<folder> the config is the run's own saved one with the command's keys on top;
- a sweep (`continue_sweep`): the command must sweep what the sweep folder swept (n_epochs, device and resume
  may differ).
Only a folder that passes is handed to Hydra (hydra.run.dir / hydra.sweep.dir); its earlier records are kept
beside the new ones as `.hydra.<n>` and `multirun.<n>.yaml`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from gensweep.config import validate
from gensweep.errors import CheckpointError, ConfigError
from gensweep.files import CHECKPOINT
from gensweep.paths import RUNS, SWEEPS, resume_mode
from gensweep.spec import RunSpec

# Keys a resumed sweep may change: how long, where, and the resume itself.
FREE_IN_SWEEP = ("resume", "n_epochs", "device", "trainer.progress")


def load_run_model(run: Path, cfg: DictConfig, spec: RunSpec, fix: str | None = None) -> Any:
    """The model `cfg` builds (on `spec.device`), holding `run`'s checkpoint; CheckpointError (one line,
    ending in `fix`) when the checkpoint is unreadable or belongs to other settings or another layout."""
    from gensweep.models.build import build_model
    from gensweep.train import checkpoint

    path = run / CHECKPOINT
    state = checkpoint.load(path)
    model = build_model(cfg, spec, spec.image_shape, spec.n_classes)
    checkpoint.restore_model(path, state, spec.identity, model, fix or checkpoint.RESUME_FIX)
    return model


def check_run(run: Path, cfg: DictConfig, spec: RunSpec) -> None:
    """Raise CheckpointError (one line) unless `run`'s checkpoint loads into the model this config builds."""
    import torch

    load_run_model(run, cfg, spec.on(torch.device("cpu")))


def choose(cfg: DictConfig) -> Path:
    """The folder `cfg.resume` continues: the given one, or (resume=true) the newest run under RUNS that fits.

    Raises ConfigError / CheckpointError with one line saying what was found and why nothing fits."""

    spec = validate(cfg)
    if resume_mode(cfg.resume) == "path":
        run = Path(str(cfg.resume)).expanduser()
        if not run.exists():
            raise ConfigError(
                f"resume={cfg.resume}: no such folder; pass a run folder (outputs/runs/<date>/<time>) "
                "or resume=true for the newest run of these settings"
            )
        if not (run / CHECKPOINT).is_file():
            raise ConfigError(
                f"resume={cfg.resume}: {cfg.resume} has no {CHECKPOINT} to continue from; start without resume"
            )
        check_run(run, cfg, spec)
        return run
    runs = sorted((p.parent for p in Path(RUNS).glob(f"*/*/{CHECKPOINT}")), reverse=True)
    if not runs:
        raise ConfigError(
            f"resume=true: no run folder under {RUNS}/ has a {CHECKPOINT} to continue from; start without resume"
        )
    reasons = []
    for run in runs:
        try:
            check_run(run, cfg, spec)
            return run
        except CheckpointError as err:
            reasons.append(f"{run.relative_to(RUNS)} ({_why(err)})")
    wanted = f"model={spec.model} dataset={spec.dataset} {spec.settings}"
    shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
    raise ConfigError(
        f"resume=true: no run under {RUNS}/ fits {wanted}; found {shown}; pass resume=<folder>, or start without resume"
    )


def _why(err: Exception) -> str:
    """A refused checkpoint's reason, in a few words, for the list of runs found."""
    text = str(err)
    if "belongs to a different run (" in text:
        return "other settings: " + text.split("belongs to a different run (", 1)[1].split(")", 1)[0]
    if "another layout" in text:
        return "networks of an older layout"
    return "unreadable checkpoint"


# The single run this process resumes: (its folder, where its earlier record went, its log's length before),
# so that a refusal inside the job (too little disk space, say) can leave the folder as it found it.
_before_resume: tuple[Path, Path | None, int] | None = None


def undo_resume(run_dir: Path) -> bool:
    """When this process resumed `run_dir` and stopped before training: remove the record Hydra wrote for it,
    put the earlier one back as `.hydra`, and cut the log to its length before. False for any other folder."""
    if _before_resume is None or _before_resume[0].resolve() != run_dir.resolve():
        return False
    run, kept, log_size = _before_resume
    if kept is not None:
        shutil.rmtree(run / ".hydra", ignore_errors=True)
        kept.rename(run / ".hydra")
    log = run / "gensweep.log"
    if log.is_file():
        with open(log, "r+b") as f:
            f.truncate(log_size)
    return True


def keep_record(run: Path) -> Path | None:
    """Move the run's `.hydra/` record aside as `.hydra.<n>` (the next free n), so the resume's own record
    does not overwrite it; returns where it went."""
    record = run / ".hydra"
    return _set_aside(record, lambda n: f".hydra.{n}") if record.is_dir() else None


def _set_aside(path: Path, name: Callable[[int], str]) -> Path:
    """Rename `path` to name(n) beside it, with the first n (1, 2, ...) not taken."""
    n = 1
    while (path.parent / name(n)).exists():
        n += 1
    kept = path.parent / name(n)
    path.rename(kept)
    return kept


def _parse(lines: Any) -> list[Override]:
    """A record's or a command's overrides, read by Hydra's own parser."""
    return OverridesParser.create().parse_overrides([str(line) for line in lines])


def _quoted(path: Path) -> str:
    text = str(path)
    return text if re.fullmatch(r"[\w./\-]+", text) else "'" + text.replace("'", "\\'") + "'"


def _given(cfg: DictConfig, key: str) -> bool:
    """Whether the command set this hydra.* key itself."""
    return any(o.key_or_group == key for o in _parse(cfg.hydra.overrides.hydra))


def continue_run(cfg: DictConfig) -> None:
    """Point the single run Hydra is about to start at the folder resume=... continues, once it is checked;
    nothing without resume. Raises ConfigError / CheckpointError (one line) on refusal, having written nothing."""
    if resume_mode(cfg.resume) == "off":
        return
    command = [o for o in _parse(cfg.hydra.overrides.task) if o.key_or_group != "resume"]
    if _given(cfg, "hydra.run.dir"):  # a folder Hydra will use anyway is the one to continue
        with read_write(cfg):
            cfg.resume = str(cfg.hydra.run.dir)
    latest = resume_mode(cfg.resume) == "latest"
    record = [o.input_line for o in command] if latest else _take_own_settings(cfg, command)
    run = choose(cfg)
    _refuse_if_done(run, int(cfg.n_epochs))
    if latest:
        _warn_dropped_settings(run, command)
    from gensweep.space import check_run_space

    check_run_space(cfg, run, resume=True)  # before Hydra writes its record there
    global _before_resume
    log = run / "gensweep.log"
    _before_resume = (run, keep_record(run), log.stat().st_size if log.is_file() else 0)
    with read_write(cfg):
        cfg.resume = str(run)
        cfg.hydra.run.dir = str(run)
        cfg.hydra.overrides.task = [*record, f"resume={_quoted(run)}"]


def _take_own_settings(cfg: DictConfig, command: list[Override]) -> list[str]:
    """resume=<folder>: make `cfg` the run's own settings (the overrides it recorded) with the command's on
    top, as Hydra composes them; returns those overrides, for the record."""
    lines = {o.key_or_group: o.input_line for o in _parse(_saved_overrides(Path(str(cfg.resume)).expanduser()))}
    lines.pop("resume", None)
    lines.update({o.key_or_group: o.input_line for o in command})
    loader = GlobalHydra.instance().config_loader()
    try:
        own = loader.load_configuration(
            cfg.hydra.job.config_name, [*lines.values(), f"resume={_quoted(Path(str(cfg.resume)))}"], RunMode.RUN
        )
    except HydraException as err:  # the run's record names groups or keys this version does not have
        first = str(err).strip().splitlines()[0]
        raise ConfigError(
            f"resume={cfg.resume}: the run's saved settings do not compose in this version of gensweep ({first}); "
            "start a fresh run"
        ) from err
    settings = OmegaConf.to_container(own, resolve=False)
    del settings["hydra"]
    with read_write(cfg), open_dict(cfg):
        for key in [k for k in cfg if k != "hydra"]:
            del cfg[key]
        for key, value in settings.items():
            cfg[key] = value
        cfg.hydra.runtime.choices = own.hydra.runtime.choices
    return list(lines.values())


def _saved_overrides(run: Path) -> list[str]:
    """The command-line overrides the run's last record holds (not Hydra's own)."""
    record = run / ".hydra" / "overrides.yaml"
    return [str(a) for a in OmegaConf.load(record)] if record.is_file() else []


def completed(run: Path, n_epochs: int) -> dict | None:
    """The run's summary when it says the run completed `n_epochs` or more, else None (no or an unreadable
    summary, an interrupted or failed run, or one with epochs left to train)."""
    try:
        summary = json.loads((run / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    if summary.get("status") == "completed" and int(summary.get("epochs_completed", 0)) >= n_epochs:
        return summary
    return None


def epochs_trained(summary: dict) -> str:
    """'1 epoch' or 'N epochs': what a completed run's summary says it trained, for the messages about it."""
    done = int(summary["epochs_completed"])
    return f"{done} epoch{'' if done == 1 else 's'}"


def _refuse_if_done(run: Path, n_epochs: int) -> None:
    """A run that has already trained n_epochs or more has nothing to continue: say so before anything is
    written (continuing would rewrite its summary and images for no training)."""
    summary = completed(run, n_epochs)
    if summary is not None:
        done = int(summary["epochs_completed"])
        raise ConfigError(
            f"resume: {run} has already trained {epochs_trained(summary)} and n_epochs={n_epochs} asks "
            f"for no more; pass a larger n_epochs (e.g. n_epochs={2 * done}) to train on, or open its "
            "results"
        )


def _warn_dropped_settings(run: Path, command: list[Override]) -> None:
    """resume=true continues a run with the command's settings: say which of the run's own it drops or
    changes (e.g. its dataset.subset), since only the networks' shapes had to match."""
    own = [o for o in _parse(_saved_overrides(run)) if o.key_or_group not in FREE_IN_SWEEP]
    ours = {o.key_or_group: o for o in command}
    changed = [
        f"{o.input_line} (now {ours[o.key_or_group].input_line.split('=', 1)[1]})"
        if o.key_or_group in ours
        else f"{o.input_line} (now the default)"
        for o in own
        if o.key_or_group not in ours or ours[o.key_or_group].input_line != o.input_line
    ]
    if changed:
        print(
            f"gensweep: warning: resume=true continues {run} without its own {', '.join(changed)}; repeat them, "
            f"or use resume={run} to keep the run's settings",
            file=sys.stderr,
        )


def _job_count(record: DictConfig) -> int | None:
    """How many jobs the sweep recorded in `record` (its multirun.yaml) launches, as Hydra's basic sweeper
    splits its parameters and overrides; None for another sweeper (Optuna's trials) or a sweep it cannot
    parse without the config loader (glob)."""
    sweeper = record.hydra.sweeper
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    try:
        overrides = OverridesParser.create().parse_overrides([*params, *record.hydra.overrides.task])
        # a key on the command line replaces the same key of the sweeper's params, as the sweeper does
        last = {o.get_key_element(): o for o in overrides}
        count = 1
        for override in last.values():
            if override.is_sweep_override():
                if not override.is_discrete_sweep():  # a range or interval: not a basic sweep's list
                    return None
                count *= len(list(override.sweep_string_iterator()))
        return count
    except HydraException:
        return None


def continue_sweep(cfg: DictConfig) -> None:
    """Point the sweep Hydra is about to start at the sweep folder resume=... continues, once the command is
    checked against what that sweep swept; nothing without resume, or for resume=true with no sweep yet.
    Raises ConfigError (one line) on refusal, having written nothing."""
    if resume_mode(cfg.resume) == "off":
        return
    target = str(cfg.hydra.sweep.dir) if _given(cfg, "hydra.sweep.dir") else str(cfg.resume)
    if resume_mode(target) == "latest":
        found = sorted(p.parent for p in Path(SWEEPS).glob("*/*/multirun.yaml"))
        if not found:  # nothing to continue: a fresh sweep, whose jobs start from scratch
            return
        sweep = found[-1]
    else:
        sweep = Path(target).expanduser()
        if not sweep.exists():
            raise ConfigError(
                f"resume={target}: no such folder; pass a sweep folder (outputs/multirun/<date>/<time>) "
                "or resume=true for the newest sweep"
            )
        if not (sweep / "multirun.yaml").is_file():
            raise ConfigError(
                f"resume={target}: {target} is not a sweep folder (it has no multirun.yaml); resume a "
                "single run without -m"
            )
    record = OmegaConf.load(sweep / "multirun.yaml")

    def swept(lines: Any) -> dict[str, str]:
        return {o.key_or_group: o.input_line for o in _parse(lines) if o.key_or_group not in FREE_IN_SWEEP}

    theirs, ours = swept(record.hydra.overrides.task), swept(cfg.hydra.overrides.task)
    if theirs != ours:
        differ = sorted(set(theirs.items()) ^ set(ours.items()))
        was = " ".join(theirs[k] for k in sorted(theirs)) or "the defaults"
        raise ConfigError(
            f"resume: {sweep} swept {was}; this command differs in "
            f"{', '.join(sorted({k for k, _ in differ}))}: repeat the sweep's own overrides (only "
            f"{', '.join(FREE_IN_SWEEP[1:])} may change), or start a new sweep without resume"
        )
    jobs = sorted(p.parent for p in sweep.glob("*/.hydra"))
    n_epochs = int(cfg.n_epochs)
    if len(jobs) == _job_count(record) and all(completed(job, n_epochs) for job in jobs):
        report = sweep / "report"
        see = f"open {report}" if report.is_dir() else f"write its report with python -m gensweep.report {sweep}"
        raise ConfigError(
            f"resume: every job of {sweep} has already trained n_epochs={n_epochs} or more; pass a larger "
            f"n_epochs to train on, or {see}"
        )
    _set_aside(sweep / "multirun.yaml", lambda n: f"multirun.{n}.yaml")
    for job in jobs:
        keep_record(job)
    with read_write(cfg):
        cfg.hydra.sweep.dir = str(sweep)
        # each job's config is composed again from these, so its folder is under the sweep's
        kept = [o.input_line for o in _parse(cfg.hydra.overrides.hydra) if o.key_or_group != "hydra.sweep.dir"]
        cfg.hydra.overrides.hydra = [*kept, f"hydra.sweep.dir={_quoted(sweep)}"]
