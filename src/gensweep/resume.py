"""Which run or sweep `resume=...` continues, chosen and checked before Hydra starts.

Hydra writes its record (`.hydra/`, `multirun.yaml`) and the log into the run or sweep folder as soon as it
starts, so a resume refused inside a job would already have changed the folder it refused. Here, first:
- a single run: the command's config is composed (on top of the run's own settings for resume=<folder>)
  and the candidate's checkpoint loaded into the model it builds;
- a sweep (-m): the command must sweep what the sweep folder swept (n_epochs, device and resume may differ).
Only a folder that passes is handed to Hydra (hydra.run.dir / hydra.sweep.dir); its earlier records are kept
beside the new ones as `.hydra.<n>` and `multirun.<n>.yaml`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from gensweep.config import compose_config, validate
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


def _key(arg: str) -> str:
    return arg.split("=", 1)[0].lstrip("+~")


def _is_hydra(arg: str) -> bool:
    return _key(arg).startswith(("hydra.", "hydra/"))


def _quoted(path: Path) -> str:
    text = str(path)
    return text if re.fullmatch(r"[\w./\-]+", text) else "'" + text.replace("'", "\\'") + "'"


def _value(argv: list[str], key: str) -> str | None:
    given = [a.split("=", 1)[1] for a in argv if _key(a) == key and "=" in a]
    return given[-1] if given else None


def prepare(argv: list[str]) -> list[str]:
    """The command line Hydra should run for `argv`: unchanged without resume=..., else pointing at the run or
    sweep folder to continue, once it is checked. Raises ConfigError / CheckpointError (one line) on refusal,
    having written nothing."""
    multirun = any(a in ("-m", "--multirun") for a in argv)
    if any(a.startswith("-") and a not in ("-m", "--multirun") for a in argv):  # --cfg, --help, ...: no job
        return argv
    asked = _value(argv, "resume")
    if asked is None or resume_mode(asked) == "off":
        return argv
    return _prepare_sweep(argv, asked) if multirun else _prepare_run(argv, asked)


def _prepare_run(argv: list[str], asked: str) -> list[str]:

    options = [a for a in argv if not _is_hydra(a) and _key(a) != "resume"]
    target = _value(argv, "hydra.run.dir") or asked  # a folder Hydra will use anyway is the one to continue
    if resume_mode(target) == "path":
        record = Path(target).expanduser() / ".hydra" / "overrides.yaml"
        if record.is_file():  # the run's own settings, under the command's
            own = {_key(a): a for a in list(OmegaConf.load(record)) if not _is_hydra(a) and _key(a) != "resume"}
            own.update({_key(a): a for a in options})
            options = list(own.values())
    try:
        cfg = compose_config([*options, f"resume={target}"])
    except HydraException as err:  # the run's own record names groups or keys this version does not have
        first = str(err).strip().splitlines()[0]
        raise ConfigError(
            f"resume={target}: the run's saved settings do not compose in this version of gensweep ({first}); "
            "start a fresh run"
        ) from err
    run = choose(cfg)
    _refuse_if_done(run, int(cfg.n_epochs))
    if resume_mode(target) == "latest":
        _warn_dropped_settings(run, options)
    keep_record(run)
    hydra = [a for a in argv if _is_hydra(a) and _key(a) != "hydra.run.dir"]
    return [*options, *hydra, f"resume={_quoted(run)}", f"hydra.run.dir={_quoted(run)}"]


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


def _warn_dropped_settings(run: Path, options: list[str]) -> None:
    """resume=true continues a run with the command's settings: say which of the run's own it drops or
    changes (e.g. its dataset.subset), since only the networks' shapes had to match."""
    record = run / ".hydra" / "overrides.yaml"
    saved = list(OmegaConf.load(record)) if record.is_file() else []
    own = [a for a in saved if not _is_hydra(a) and _key(a) not in FREE_IN_SWEEP]
    ours = {_key(a): a for a in options}
    changed = [
        f"{a} (now {ours[_key(a)].split('=', 1)[1]})" if _key(a) in ours else f"{a} (now the default)"
        for a in own
        if ours.get(_key(a)) != a
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


def _prepare_sweep(argv: list[str], asked: str) -> list[str]:
    target = _value(argv, "hydra.sweep.dir") or asked
    if resume_mode(target) == "latest":
        found = sorted(p.parent for p in Path(SWEEPS).glob("*/*/multirun.yaml"))
        if not found:  # nothing to continue: a fresh sweep, whose jobs start from scratch
            return argv
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
    theirs = {
        _key(a): a
        for a in list(OmegaConf.load(sweep / "multirun.yaml").hydra.overrides.task)
        if _key(a) not in FREE_IN_SWEEP
    }
    ours = {_key(a): a for a in argv if not a.startswith("-") and not _is_hydra(a) and _key(a) not in FREE_IN_SWEEP}
    if theirs != ours:
        differ = sorted(set(theirs.items()) ^ set(ours.items()))
        was = " ".join(theirs[k] for k in sorted(theirs)) or "the defaults"
        raise ConfigError(
            f"resume: {sweep} swept {was}; this command differs in "
            f"{', '.join(sorted({k for k, _ in differ}))}: repeat the sweep's own overrides (only "
            f"{', '.join(FREE_IN_SWEEP[1:])} may change), or start a new sweep without resume"
        )
    jobs = sorted(p.parent for p in sweep.glob("*/.hydra"))
    record = OmegaConf.load(sweep / "multirun.yaml")
    n_epochs = _value(argv, "n_epochs") or str(record.n_epochs)
    every_job_started = len(jobs) == _job_count(record)
    if every_job_started and n_epochs.isdigit() and all(completed(job, int(n_epochs)) for job in jobs):
        report = sweep / "report"
        see = f"open {report}" if report.is_dir() else f"write its report with python -m gensweep.report {sweep}"
        raise ConfigError(
            f"resume: every job of {sweep} has already trained n_epochs={n_epochs} or more; pass a larger "
            f"n_epochs to train on, or {see}"
        )
    _set_aside(sweep / "multirun.yaml", lambda n: f"multirun.{n}.yaml")
    for job in jobs:
        keep_record(job)
    flags = [a for a in argv if a.startswith("-")]  # after every override: Hydra's parser wants them last
    return [a for a in argv if a not in flags and _key(a) != "hydra.sweep.dir"] + [
        f"hydra.sweep.dir={_quoted(sweep)}",
        *flags,
    ]
