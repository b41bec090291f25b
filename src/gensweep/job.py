"""One job of `python -m gensweep`: check the config, load data, build the model and train it.

Kept apart from the command line (cli.py) so that a sweep's launching process, which only composes configs,
starts jobs and writes the report, never imports torch: with hydra/launcher=joblib or slurm the jobs train in
other processes.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from gensweep import STARTED, loggers
from gensweep.columns import HEADLINE
from gensweep.config import resolve_device, validate
from gensweep.errors import CheckpointError, ConfigError, DatasetError, WriteFailed
from gensweep.files import CHECKPOINT, METRICS, check_space, rewrite_in_place, write_json, write_text
from gensweep.models.build import build_model
from gensweep.paths import RUNS, discard_if_unused, resume_mode
from gensweep.placement import job_device
from gensweep.report.runs import declared_keys
from gensweep.resume import completed, epochs_trained, undo_resume
from gensweep.train.stops import RunDiverged, RunInterrupted, RunOutOfMemory, RunStopped

if TYPE_CHECKING:
    from gensweep.train.loop import Trainer

log = logging.getLogger("gensweep")
_jobs_started = 0


def train(cfg: DictConfig, run_dir: Path, multirun: bool = False) -> dict:
    """Validate, load data, build the model and train it; returns the run's summary."""
    global _jobs_started
    # The first job of a process counts its startup from the process's first import; later sweep jobs from here.
    started = STARTED if _jobs_started == 0 else time.perf_counter()
    _jobs_started += 1
    if multirun and resume_mode(cfg.resume) != "off":
        summary = completed(run_dir, int(cfg.n_epochs))
        if summary is not None:  # a resumed sweep continues the jobs that need it; this one is left as it was
            log.info(
                "job folder %s has already trained %s (n_epochs=%d): kept as it is",
                run_dir,
                epochs_trained(summary),
                cfg.n_epochs,
            )
            return summary
    trainer, resume = build_trainer(cfg, run_dir, multirun)
    return trainer.fit(resume=resume, started=started)


def build_trainer(cfg: DictConfig, run_dir: Path, multirun: bool = False) -> tuple[Trainer, bool]:
    """Everything before the first step: checks, data, model, metric backbone; (trainer, whether to resume).

    With `resume`, a sweep job whose folder has no checkpoint yet starts fresh (it never ran); a single run
    asked to resume a folder without one is an error.
    """
    spec = validate(cfg)
    mode = resume_mode(cfg.resume)
    resume = mode != "off" and (run_dir / CHECKPOINT).exists()
    if multirun and os.environ.get("SUBMITIT_EXECUTOR") and (run_dir / CHECKPOINT).exists():
        log.info("job folder %s holds a checkpoint: a requeued job, continuing from it", run_dir)
        resume = True
    if mode != "off" and not resume and not multirun:  # a sweep job that never ran simply starts
        asked = "true" if mode == "latest" else cfg.resume
        where = f"no run folder under {RUNS}/ has a" if mode == "latest" else f"{cfg.resume} has no"
        raise ConfigError(f"resume={asked}: {where} {CHECKPOINT} to continue from; start without resume")
    # Imported here, not at the top: a config error then answers without loading torchvision, matplotlib and
    # the data code.
    from gensweep.data import apply_subset, load_splits
    from gensweep.metrics.quality import QualityMetrics
    from gensweep.train.loop import Trainer, seed_everything

    if spec.device.type == "cuda":
        torch.cuda.set_device(spec.device)  # a job on cuda:N then opens no CUDA context on cuda:0
    seed_everything(cfg.seed)
    full_train, val_set = load_splits(cfg.dataset)
    train_set = apply_subset(full_train, cfg.dataset.get("subset"))
    if spec.batch_size > len(train_set):
        raise ConfigError(
            f"batch_size={spec.batch_size} is larger than the training set ({len(train_set)} images): "
            "lower batch_size or raise dataset.subset"
        )
    model = build_model(cfg, spec, train_set.shape, spec.n_classes)
    log.info(
        "%s on %s %s, %d train / %d val images, device %s, run folder %s",
        model.name,
        cfg.dataset.name,
        "x".join(map(str, train_set.shape)),
        len(train_set),
        len(val_set),
        spec.device,
        run_dir,
    )
    if model.lr != spec.lr:
        log.info(
            "learning rate %.3g: lr=%g scaled to width %d by model.lr_width_ref=%s",
            model.lr,
            spec.lr,
            spec.width,
            cfg.model.get("lr_width_ref"),
        )
    probe = None
    if cfg.metrics.probe.steps > 0:
        from gensweep.metrics.probe import DivergenceProbe

        probe = DivergenceProbe(cfg.metrics.probe, full_train, val_set, spec.device)
    quality = None
    if cfg.metrics.backbone != "none":
        # Building a backbone draws random initial weights: in a forked RNG, so a cached or a freshly trained
        # classifier, or no metrics at all, leave training with the same random stream.
        device = spec.device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            quality = QualityMetrics(cfg.metrics, cfg.dataset, full_train, val_set, spec.n_classes, device)
    trainer = Trainer(
        model,
        train_set,
        val_set,
        run_dir=run_dir,
        n_epochs=spec.n_epochs,
        batch_size=spec.batch_size,
        seed=spec.seed,
        identity=spec.identity,
        trainer_cfg=cfg.trainer,
        quality=quality,
        probe=probe,
        quality_every=spec.metrics_every,
        loggers=loggers.build(cfg.logger, _run_info(cfg, run_dir, multirun)),
    )
    if multirun:  # a single run checked before Hydra wrote anything (gensweep.space, from start_checks)
        check_space(run_dir, trainer.bytes_to_write(resume))
    return trainer, resume


def _run_info(cfg: DictConfig, run_dir: Path, multirun: bool) -> loggers.RunInfo:
    """How the loggers name this run: a sweep's job by its overrides, in the sweep's experiment."""
    name, sweep = run_dir.name, None
    if HydraConfig.initialized():
        overrides = [str(o) for o in HydraConfig.get().overrides.task]
        name = " ".join(overrides) or name
        if multirun:  # the keys the sweep varies, not those every job shares
            folder = Path(HydraConfig.get().sweep.dir).absolute()
            swept = declared_keys(folder)
            name = " ".join(o for o in overrides if o.split("=", 1)[0].lstrip("+") in swept) or name
            sweep = str(folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder)
    return loggers.RunInfo(run_dir, name, sweep, OmegaConf.to_container(cfg, resolve=True))


def _record_failure(run_dir: Path, status: str, error: str, trace: str | None = None) -> None:
    """Mark the job's summary.json failed (keeping what the trainer wrote there) and keep its traceback; where
    the folder can no longer be written (a full disk), the log says why instead."""
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    try:
        if trace is not None:
            write_text(run_dir / "traceback.txt", trace)
            summary["traceback"] = "traceback.txt"
        write_json(path, {**summary, "status": status, "error": error})
    except WriteFailed as err:
        try:  # a full disk has no room for a second copy, often still for the same file in its own blocks
            rewrite_in_place(path, {**summary, "status": status, "error": error})
        except OSError:
            log.error("could not mark %s %s in its summary.json either: %s", run_dir, status, err)


def run_job(cfg: DictConfig) -> float | None:
    """Train the job Hydra composed; returns the sweeper's objective, or None.

    A failing sweep job records why in its summary.json and the sweep goes on (the sweep's report lists it and
    the command exits 1); a single run exits with a one-line error (or, for a bug, the traceback).
    """
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    if multirun:  # device=auto or cuda: job i on GPU i mod count (gensweep.placement)
        cfg.device = job_device(cfg.device, hydra_cfg.job.num, torch.cuda.device_count())
    try:
        summary = train(cfg, run_dir, multirun)
    except RunInterrupted as stop:  # preemption or Ctrl-C: the whole sweep stops, to be resumed
        if stop.forward is not None:  # under submitit: its handler requeues the job, which then resumes
            print(
                f"gensweep: stopped at step {stop.step} with a checkpoint; submitit requeues the job", file=sys.stderr
            )
            stop.forward(stop.signum, None)
        print(f"gensweep: {stop}", file=sys.stderr)
        sys.exit(stop.exit_code)
    except torch.cuda.OutOfMemoryError:  # not the message: a page of allocator statistics
        torch.cuda.empty_cache()  # a sweep worker goes on: hand the failed run's cached memory back to the others
        metrics = run_dir / METRICS  # a row per finished epoch, each followed by its checkpoint
        rows = len(metrics.read_text().splitlines()) - 1 if metrics.is_file() else 0
        kept = max(rows, 0) if (run_dir / CHECKPOINT).is_file() else None
        err = RunOutOfMemory(str(resolve_device(cfg.device)), kept)
        if kept is None and not multirun:
            discard_if_unused(run_dir)
        else:
            _record_failure(run_dir, "failed", str(err))
        if not multirun:
            print(f"gensweep: error: {err}", file=sys.stderr)
            sys.exit(err.exit_code)
        log.error("job %s failed: %s", hydra_cfg.job.num, err)
        return None
    except (ConfigError, CheckpointError, DatasetError, RunDiverged) as err:
        if not multirun:
            if not isinstance(err, RunDiverged):  # refused before the first step
                _leave_as_found(run_dir)
            print(f"gensweep: error: {err}", file=sys.stderr)
            sys.exit(err.exit_code if isinstance(err, RunStopped) else 2)
        log.error("job %s failed: %s", hydra_cfg.job.num, err)
        if not isinstance(err, RunDiverged):  # the trainer already wrote the diverged run's summary
            _record_failure(run_dir, "failed", str(err))
        return None
    except WriteFailed as err:  # a full disk, a quota, an unwritable folder: the last checkpoint is intact
        message = f"{err}{_resume_hint(run_dir)}"
        before_training = not err.path.absolute().is_relative_to(run_dir.absolute())  # a dataset or FID cache
        if not multirun and before_training:
            _leave_as_found(run_dir)
        else:
            _record_failure(run_dir, "failed", message)
        if not multirun:
            print(f"gensweep: error: {message}", file=sys.stderr)
            sys.exit(err.exit_code)
        log.error("job %s failed: %s", hydra_cfg.job.num, message)
        return None
    except Exception as err:  # noqa: BLE001 - any bug in one configuration must not take the sweep down
        _record_failure(run_dir, "failed", f"{type(err).__name__}: {err}", traceback.format_exc())
        if not multirun:
            raise
        log.exception("job %s failed", hydra_cfg.job.num)
        return None
    if not multirun:
        log.info("%s", results_line(run_dir, summary))
    return _objective(cfg, summary, run_dir)


def _leave_as_found(run_dir: Path) -> None:
    """A single run refused before its first step: a resumed folder gets back its record and log as they
    were; a new one is removed when nothing but Hydra's record and the log are in it."""
    if not undo_resume(run_dir):
        discard_if_unused(run_dir)


def _resume_hint(run_dir: Path) -> str:
    """What continues a run stopped by a failed write: its last checkpoint, once there is space again."""
    if not (run_dir / CHECKPOINT).is_file():
        return ""
    return f"; then resume={run_dir} continues from its last checkpoint"


def results_line(run_dir: Path, summary: dict) -> str:
    """A finished run's last line: its folder, the files to open first and its headline numbers."""
    final = summary.get("final", {})
    numbers = []
    if "fid" in final:
        numbers.append(f"FID {final['fid']:.1f} (real-data floor {summary.get('fid_real_floor', float('nan')):.1f})")
    if "classes_covered" in final:
        numbers.append(f"{final['classes_covered']} class{'' if final['classes_covered'] == 1 else 'es'} covered")
    for key, label in (
        ("probe_emd", "probe EMD"),
        ("probe_jsd", "probe JSD"),
        ("val_loss", "val_loss"),
        ("jsd", "JSD"),
        ("emd", "EMD"),
    ):
        if key in final:
            numbers.append(f"{label} {final[key]:.4g}")
    grids = sorted((run_dir / "samples").glob("epoch_*.png"))
    opened = [p.relative_to(run_dir).as_posix() for p in grids[-1:]] + ["curves.png", "metrics.csv", "summary.json"]
    after = f"; at epoch {final['epoch']}: {', '.join(numbers)}" if numbers and "epoch" in final else ""
    return f"results in {run_dir}: open {', '.join(opened)}{after}"


def _objective(cfg: DictConfig, summary: dict, run_dir: Path) -> float | None:
    """What the job returns to the sweeper (Optuna minimises it): the final value of `objective`."""
    final = summary["final"]
    key = str(cfg.objective)
    if key == "auto":
        key = next((k for k in HEADLINE if k in final), "fid")
    value = final.get(key)
    if value is None:
        log.warning("objective=%s: the run has no final %s (columns: %s)", key, key, ", ".join(final))
        return None
    if (summary.get("objective"), summary.get("objective_value")) != (key, value):
        write_json(run_dir / "summary.json", {**summary, "objective": key, "objective_value": value})
    return float(value)
