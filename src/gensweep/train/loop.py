"""The one training loop every model shares.

It owns epochs, the device, seeding, batching, progress, the validation pass, logging, sample grids and
checkpoints; everything model-specific sits behind `GenerativeModel`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from tqdm import tqdm

from gensweep.artifacts.images import save_grid, save_reconstructions
from gensweep.artifacts.interpolation import interpolate, save_interpolation
from gensweep.data.tensors import ImageTensors
from gensweep.files import CHECKPOINT, METRICS, write_json
from gensweep.loggers import IMAGE_COPIES, Loggers
from gensweep.metrics.probe import DivergenceProbe
from gensweep.metrics.quality import QualityMetrics
from gensweep.metrics.references import HELD_OUT, reference_indices
from gensweep.models.base import GenerativeModel
from gensweep.train import checkpoint, disk
from gensweep.train.metrics_log import MetricsLog
from gensweep.train.stops import RunDiverged, RunInterrupted, RunStopped, StopSignals

log = logging.getLogger("gensweep")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    """Trains `model` on `train` for `n_epochs`, validating on `val`, writing every artifact into `run_dir`."""

    def __init__(
        self,
        model: GenerativeModel,
        train: ImageTensors,
        val: ImageTensors,
        *,
        run_dir: Path,
        n_epochs: int,
        batch_size: int,
        seed: int,
        identity: dict[str, Any],
        trainer_cfg: DictConfig,
        quality: QualityMetrics | None = None,
        probe: DivergenceProbe | None = None,
        quality_every: int = 1,
        loggers: Loggers | None = None,
    ) -> None:
        self.model = model
        self.device = model.device
        applied = model.accelerate(str(trainer_cfg.precision), trainer_cfg.channels_last, trainer_cfg.compile)
        if self.device.type == "cuda" and trainer_cfg.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True
            applied.append("cudnn.benchmark")
        if applied:
            log.info("speed options: %s", ", ".join(applied))
        self.train_data = self._place(train, val, trainer_cfg.data_on_device_max_fraction)
        self.val_data = val.to(self.train_data.images.device)
        # The held-out images validated on each epoch: a seeded random sample of `eval_batches` batches (or all),
        # never the split's first images, which an ordered file (MNIST's test set) would make one kind of image.
        n_eval = len(val) if trainer_cfg.eval_batches is None else min(len(val), trainer_cfg.eval_batches * batch_size)
        chosen = reference_indices(len(val), n_eval, HELD_OUT).to(self.val_data.images.device)
        self.eval_data = ImageTensors(self.val_data.images[chosen], self.val_data.labels[chosen])
        self.run_dir = Path(run_dir)
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.seed = seed
        self.identity = identity
        self.cfg = trainer_cfg
        self.columns = ["epoch", "step", "seconds"]
        self.columns += [f"train_{k}" for k in model.train_metrics] + [f"val_{k}" for k in model.val_metrics]
        self.columns += list(model.estimate_names)
        self.quality = quality
        self.probe = probe
        self.quality_every = quality_every
        # curves.png's panels: the model's own, then the probe's
        self.curves = tuple(model.curves) + (() if probe is None else probe.curves)
        # Wall seconds per part of the run (this process): what training costs beyond its steps.
        self.seconds_by_part: dict[str, float] = defaultdict(float)
        self.loggers = Loggers({}) if loggers is None else loggers
        self.last_checkpoint_epoch = 0
        self.startup_seconds: float | None = None  # process (or sweep job) start to the first training step
        self.started = time.perf_counter()
        if quality is not None:
            self.columns += quality.columns
        if probe is not None:
            self.columns += list(probe.columns)
        self.order = torch.Generator().manual_seed(seed)  # the per-epoch batch permutation
        z, labels, self.sample_nrow = model.sample_inputs(torch.Generator().manual_seed(seed))
        self.sample_z = z.to(self.device)
        self.sample_labels = None if labels is None else labels.to(self.device)

    def bytes_to_write(self, resume: bool) -> dict[str, int]:
        """At most what this run writes to its folder, part by part (gensweep.train.disk)."""
        copies = sum(name in IMAGE_COPIES for name in self.loggers.openers)
        shape = self.train_data.shape
        return disk.bytes_to_write(self.model, shape, self.n_epochs, self.cfg.sample_every, resume, copies)

    def _place(self, train: ImageTensors, val: ImageTensors, max_fraction: float) -> ImageTensors:
        """Move the uint8 dataset to the training device when it fits comfortably; else batches travel."""
        if self.device.type != "cuda":
            return train
        free, _ = torch.cuda.mem_get_info(self.device)
        if train.nbytes + val.nbytes <= max_fraction * free:
            return train.to(self.device)
        log.info(
            "dataset (%.1f GB) kept in host memory: more than %.0f%% of free GPU memory",
            train.nbytes / 1e9,
            100 * max_fraction,
        )
        return train

    # --- one epoch ----------------------------------------------------------------------------------------
    def _train_epoch(
        self, epoch: int, step: int, signals: StopSignals, resumed: dict | None
    ) -> tuple[dict[str, float], int]:
        """One pass over the data, or the rest of one when `resumed` (a mid-epoch checkpoint's partial state).

        Stops between steps when a signal arrives (raising RunInterrupted with what a mid-epoch checkpoint
        needs) and when a loss stops being finite (checked every step on CPU, every 20 on a GPU, where the
        check costs a device sync).
        """
        model = self.model
        model.train()
        epoch_order = self.order.get_state()  # the permutation below is drawn from here; kept for a resume
        done = 0 if resumed is None else int(resumed["batches_done"])
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = defaultdict(int)
        if resumed is not None:
            sums = {k: torch.tensor(v, device=self.device) for k, v in resumed["sums"].items()}
            counts.update(resumed["counts"])
        every = 1 if self.device.type == "cpu" else 20
        bar = tqdm(
            total=self.train_data.n_batches(self.batch_size, drop_last=True),
            initial=done,
            desc=f"epoch {epoch}/{self.n_epochs}",
            disable=None if self.cfg.progress is None else not self.cfg.progress,
            leave=False,
            dynamic_ncols=True,
        )
        last_refresh = time.monotonic()
        try:
            for images, labels in self.train_data.batches(self.batch_size, self.order, drop_last=True, skip=done):
                if signals.received is not None:
                    self._check_finite(sums, epoch, step)  # never checkpoint weights that already diverged
                    partial = {
                        "epoch": epoch,
                        "batches_done": done,
                        "order": epoch_order,
                        "sums": {k: v.item() for k, v in sums.items()},
                        "counts": dict(counts),
                    }
                    raise _Interrupt(signals.received, step, partial)
                out = model.train_step(model.to_input(images), labels)
                if self.startup_seconds is None:
                    self._log_startup()
                for k, v in out.items():  # summed in float32 whatever the step's precision
                    sums[k] = sums[k] + v.float() if k in sums else v.to(torch.float32, copy=True)
                    counts[k] += 1
                step += 1
                done += 1
                if step % every == 0:
                    self._check_finite(sums, epoch, step)
                bar.update()
                if not bar.disable and time.monotonic() - last_refresh > 0.5:
                    bar.set_postfix({k: f"{(sums[k] / counts[k]).item():.4g}" for k in sums}, refresh=False)
                    last_refresh = time.monotonic()
        finally:
            bar.close()
        self._check_finite(sums, epoch, step)
        return {k: (sums[k] / counts[k]).item() for k in sums}, step

    def _log_startup(self) -> None:
        """Record how long the run took to reach its first training step (imports, data, set-up)."""
        self.startup_seconds = round(time.perf_counter() - self.started, 3)
        log.info("first training step %.2fs after start", self.startup_seconds)

    def _check_finite(
        self, values: dict[str, torch.Tensor | float], epoch: int, step: int, prefix: str = "train_"
    ) -> None:
        if not values:
            return
        finite = torch.isfinite(torch.stack([torch.as_tensor(v, dtype=torch.float64).cpu() for v in values.values()]))
        if not bool(finite.all()):
            name = next(k for k, ok in zip(values, finite.tolist()) if not ok)
            raise RunDiverged(epoch, step, f"{prefix}{name}", self.last_checkpoint_epoch)

    @torch.no_grad()
    def _validate(self, epoch: int) -> dict[str, float]:
        """Average held-out metrics over `eval_data` (`eval_batches` batches of random held-out images).

        Runs in a forked RNG seeded by (seed, epoch): evaluation noise is reproducible and does not shift the
        training random stream, so a resumed run sees the same numbers as an uninterrupted one.
        """
        model = self.model
        model.eval()
        sums: dict[str, float] = defaultdict(float)
        seen = 0
        devices = [self.device] if self.device.type == "cuda" else []
        seed = self.seed * 100_003 + epoch
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            with model.estimating(self._training_batches(torch.Generator().manual_seed(seed))):
                for images, labels in self.eval_data.batches(self.batch_size):
                    out = model.evaluate(model.to_input(images), labels)
                    for k, v in out.items():
                        sums[k] += float(v) * len(images)
                    seen += len(images)
        return {k: v / seen for k, v in sums.items()}

    def _training_batches(self, order: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Endless shuffled training batches in the model's input range, in an order of their own."""
        while True:
            for images, labels in self.train_data.batches(self.batch_size, order, drop_last=True):
                yield self.model.to_input(images), labels

    # --- artifacts ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def _save_samples(self, path: Path) -> torch.Tensor:
        self.model.eval()
        images = self.model.sample(self.sample_z, self.sample_labels)
        save_grid(images, path, nrow=self.sample_nrow)
        return images

    @torch.no_grad()
    def _save_final_images(self) -> None:
        """reconstructions.png (models with an encoder) and the latent-vs-pixel interpolation."""
        self.model.eval()
        originals = self.model.to_input(self.val_data.images[:8])
        recon = self.model.reconstruct(originals)
        if recon is not None:
            save_reconstructions(self.model.to_unit(originals), recon, self.run_dir / "reconstructions.png")
        rows = interpolate(
            self.model, originals[:2], self.val_data.labels[:2], torch.Generator().manual_seed(self.seed)
        )
        save_interpolation(*rows, self.run_dir)

    def _checkpoint(self, epoch: int, step: int, seconds: float, partial: dict | None = None) -> None:
        """After a finished `epoch`; with `partial`, in the middle of epoch + 1 (its state so far)."""
        checkpoint.save_run(
            self.run_dir / CHECKPOINT, epoch, step, seconds, self.identity, self.model, self.order, partial
        )
        self.last_checkpoint_epoch = epoch

    def _restore(self) -> _Progress:
        path = self.run_dir / CHECKPOINT
        state = checkpoint.restore_run(path, self.identity, self.model, self.order)
        partial = state.get("partial")
        where = (
            f"in epoch {partial['epoch']} after {partial['batches_done']} batches"
            if partial
            else f"at epoch {state['epoch']}"
        )
        log.info("resumed from %s %s (step %d)", path, where, state["step"])
        self.last_checkpoint_epoch = int(state["epoch"])
        return _Progress(int(state["epoch"]), int(state["step"]), float(state["seconds"]), partial)

    def _summary(self, status: str, rows: list[dict[str, float]], progress: _Progress) -> dict[str, Any]:
        final = {k: v for k, v in rows[-1].items() if not (isinstance(v, float) and math.isnan(v))} if rows else {}
        return {
            "status": status,
            **self.identity,
            "device": str(self.device),
            "epochs_completed": int(final.get("epoch", 0)),
            "n_epochs": self.n_epochs,
            "steps": progress.step,
            "train_seconds": round(progress.seconds, 3),
            "startup_seconds": self.startup_seconds,
            "seconds_by_part": {k: round(v, 3) for k, v in self.seconds_by_part.items()},
            "wall_seconds": round(time.perf_counter() - self.started, 3) if status != "running" else 0.0,
            **({} if self.quality is None else self.quality.summary(self.seconds_by_part["metrics"])),
            # curves.png's panels, so that a sweep report can draw them without importing the model (torch)
            "curves": [[ylabel, list(columns)] for ylabel, columns in self.curves],
            "final": final,
        }

    # --- the loop -----------------------------------------------------------------------------------------
    def fit(self, resume: bool, started: float | None = None) -> dict[str, Any]:
        """Train to n_epochs; `started` (a perf_counter time) counts data loading and metric setup as wall time.

        SIGTERM/SIGINT stop it at the next step with a mid-epoch checkpoint (RunInterrupted); a non-finite
        loss stops it without touching the last checkpoint (RunDiverged). Either way summary.json says so.
        """
        self.started = time.perf_counter() if started is None else started
        progress = self._restore() if resume else _Progress()
        metrics = MetricsLog(self.run_dir / METRICS, self.columns, resume_epoch=progress.epoch)
        self._warn_if_generator_untrained(progress)
        write_json(self.run_dir / "summary.json", self._summary("running", metrics.rows, progress))
        if not resume:  # from the first step on, a killed run can be resumed (from its initial state)
            self._checkpoint(0, 0, 0.0)
        self.loggers.open(resume, progress.epoch, metrics.rows)
        summary: dict[str, Any] = {"status": "failed"}  # what the loggers are told if anything below raises
        try:
            with StopSignals() as signals:
                for epoch in range(progress.epoch + 1, self.n_epochs + 1):
                    self._epoch(epoch, progress, signals, metrics)
                with self._timed("final_images"):
                    self._plot_curves(metrics.rows)
                    self._save_final_images()
            summary = self._summary("completed", metrics.rows, progress)
            write_json(self.run_dir / "summary.json", summary)
        except RunStopped as stop:
            status = "interrupted" if isinstance(stop, RunInterrupted) else "diverged"
            progress.step = stop.step
            summary = {**self._summary(status, metrics.rows, progress), "error": str(stop)}
            write_json(self.run_dir / "summary.json", summary)
            if metrics.rows:
                self._plot_curves(metrics.rows)
            raise
        finally:
            self.loggers.close(summary["status"], summary)
        if signals.received is not None:  # the run finished, but a sweep must still stop here
            raise RunInterrupted(signals.received, self.n_epochs, progress.step, signals.forward)
        return summary

    def _epoch(self, epoch: int, progress: _Progress, signals: StopSignals, metrics: MetricsLog) -> None:
        """Train one epoch (or the rest of a resumed one), validate, then write its row, grid and checkpoint."""
        t0 = time.perf_counter()
        try:
            train, progress.step = self._train_epoch(epoch, progress.step, signals, progress.partial)
        except _Interrupt as stop:
            progress.seconds += time.perf_counter() - t0
            self._checkpoint(epoch - 1, stop.step, progress.seconds, stop.partial)
            raise RunInterrupted(stop.signum, epoch, stop.step, signals.forward) from None
        progress.partial = None
        t1 = time.perf_counter()
        self.seconds_by_part["steps"] += t1 - t0
        val = self._validate(epoch)
        self._check_finite(val, epoch, progress.step, prefix="val_")
        progress.seconds += time.perf_counter() - t0
        self.seconds_by_part["validation"] += time.perf_counter() - t1
        row = self._epoch_row(epoch, progress.step, progress.seconds, train, val)
        samples, grid = None, None
        with self._timed("samples"):
            if disk.draws_grid(epoch, self.n_epochs, self.cfg.sample_every):
                grid = self.run_dir / "samples" / f"epoch_{epoch:03d}.png"
                samples = self._save_samples(grid)
        with self._timed("logs"):
            metrics.append(row)
        with self._timed("checkpoints"):
            self._checkpoint(epoch, progress.step, progress.seconds)
        with self._timed("logs"):  # after the checkpoint: a tracker never holds an epoch a resume would redo
            self.loggers.epoch(row, samples, self.sample_nrow, grid)
        log.info(
            "epoch %d/%d  %s  (%.1fs)",
            epoch,
            self.n_epochs,
            "  ".join(f"{k} {row[k]:.4g}" for k in self.columns[3:] if k in row),
            progress.seconds,
        )
        if signals.received is not None and epoch < self.n_epochs:  # arrived after the epoch's last step
            raise RunInterrupted(signals.received, epoch, progress.step, signals.forward)

    def _warn_if_generator_untrained(self, progress: _Progress) -> None:
        left = self.train_data.n_batches(self.batch_size, drop_last=True) * (self.n_epochs - progress.epoch) - (
            int(progress.partial["batches_done"]) if progress.partial else 0
        )
        warning = self.model.schedule_warning(left)
        if warning:
            log.warning("warning: %s", warning)

    @contextlib.contextmanager
    def _timed(self, part: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds_by_part[part] += time.perf_counter() - start

    def _plot_curves(self, rows: list[dict[str, float]]) -> None:
        from gensweep.artifacts.plots import plot_curves  # matplotlib, needed only at the end of a run

        plot_curves(rows, self.curves, self.run_dir / "curves.png", title=self.identity["model"])

    def _epoch_row(
        self, epoch: int, step: int, seconds: float, train: dict[str, float], val: dict[str, float]
    ) -> dict[str, float]:
        """The epoch's metrics.csv row: losses, JSD/EMD and, every `quality_every` epochs, FID, KID and the
        divergence probe: each from fixed noise and seeds, so that epochs differ only by the model."""
        row: dict[str, float] = {"epoch": epoch, "step": step, "seconds": round(seconds, 3)}
        row.update({f"train_{k}": v for k, v in train.items()})
        row.update({f"val_{k}": v for k, v in val.items()})
        row.update(self.model.estimates(val))
        if epoch % self.quality_every == 0 or epoch == self.n_epochs:
            if self.quality is not None:
                with self._timed("metrics"):
                    row.update(self.quality(self.model, seed=self.seed + 1))
            if self.probe is not None:
                with self._timed("probe"):
                    row.update(self.probe(self.model, seed=self.seed + 2))
        return row


@dataclass
class _Progress:
    """Where the run stands: the last finished epoch, steps and training seconds so far, and a resumed
    mid-epoch checkpoint's partial epoch (None once that epoch is finished)."""

    epoch: int = 0
    step: int = 0
    seconds: float = 0.0
    partial: dict[str, Any] | None = None


class _Interrupt(Exception):
    """Inside the trainer: a signal arrived mid-epoch; carries what the mid-epoch checkpoint needs."""

    def __init__(self, signum: int, step: int, partial: dict[str, Any]) -> None:
        super().__init__(signum)
        self.signum, self.step, self.partial = signum, step, partial
