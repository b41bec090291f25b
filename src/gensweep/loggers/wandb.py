"""logger=wandb: each run as a Weights & Biases run, offline unless told otherwise.

- Mode: `logger.wandb.mode`, else WANDB_MODE, else offline: the run is written to
  <run folder>/wandb/offline-run-*/ and nothing leaves the machine; `wandb sync <that folder>` uploads it later,
  after `wandb login`. `logger.wandb.mode=online` streams it to W&B as the run goes.
- Project `logger.wandb.project`, entity `logger.wandb.entity` (null: the account's default). A sweep's jobs
  are one W&B group, named after the sweep folder, each run named by the values the sweep varies.
- A run logs its resolved config, every metrics.csv column at each epoch (step = epoch) once the epoch's
  checkpoint is written, with the epoch's sample grid as an image; at the end the curves and images, summary.json
  and metrics.csv as the run's files, the last epoch's row, the summary's whole-run figures (the real-data FID
  floor, wall seconds) and gensweep's status into the run's summary, and exit code 0 for a completed run, 1
  otherwise.
- A resumed run continues the same W&B run: loggers.json keeps its id and the last epoch it holds, and the
  epochs metrics.csv has beyond that are logged first. Offline, each resume writes one more offline-run folder
  with that id; `wandb sync` uploads a run's folders in order into the one run.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import torch
import wandb
from omegaconf import DictConfig

from gensweep.loggers import RUN_FILES, SUMMARY_FIGURES, RunInfo, finite_values, read_ids, write_ids

log = logging.getLogger("gensweep")


def _values(row: dict[str, float]) -> dict[str, float]:
    return {key: value for key, value in finite_values(row).items() if key != "epoch"}


class WandbLog:
    def __init__(self, settings: DictConfig, info: RunInfo, resumed: bool, rows: list[dict[str, float]]) -> None:
        self.run_dir = info.run_dir
        ids = read_ids(self.run_dir)
        run_id = ids.get("wandb") if resumed else None
        self.run = wandb.init(
            project=settings.project,
            entity=settings.entity,
            group=settings.group or info.sweep,
            name=info.name,
            job_type="train",
            config=info.config,
            id=run_id,
            resume="allow" if run_id else None,
            dir=str(self.run_dir),
            mode=settings.mode or os.environ.get("WANDB_MODE") or "offline",
            # gensweep writes its own log; W&B's console capture would also wrap the progress bar's stream
            settings=wandb.Settings(console="off", silent=True),
        )
        logged = int(ids.get("wandb_epoch", 0)) if run_id else 0
        self.last_row = rows[-1] if rows else None
        for row in rows:  # epochs metrics.csv kept that W&B lacks: a resumed run's, or a first run under wandb
            if int(row["epoch"]) > logged:
                grid = self.run_dir / "samples" / f"epoch_{int(row['epoch']):03d}.png"
                self._log_row(row, grid if grid.is_file() else None)

    def _log_row(self, row: dict[str, float], grid: Path | None) -> None:
        epoch = int(row["epoch"])
        values: dict[str, Any] = _values(row)
        if grid is not None:
            values["samples"] = wandb.Image(str(grid), caption=f"epoch {epoch}")
        self.run.log(values, step=epoch)
        write_ids(self.run_dir, wandb=self.run.id, wandb_epoch=epoch)

    def epoch(self, row: dict[str, float], samples: torch.Tensor | None, nrow: int, grid: Path | None) -> None:
        self._log_row(row, grid)
        self.last_row = row

    def close(self, status: str, summary: dict[str, Any]) -> None:
        last = _values(self.last_row) if self.last_row is not None else {}
        self.run.summary.update({**last, **finite_values(summary, SUMMARY_FIGURES), "status": status})
        for name in RUN_FILES:
            if (self.run_dir / name).is_file():  # copied into the W&B run's files (W&B would link to it, and a
                copy = Path(self.run.dir) / name  # link breaks when outputs/ moves before `wandb sync`)
                shutil.copy2(self.run_dir / name, copy)
                self.run.save(str(copy), base_path=self.run.dir, policy="now")
        offline = self.run.settings.mode == "offline"
        # one more for each resume (W&B names one that starts in the same second as another <name>-1)
        folders = Path(self.run.dir).parent.parent / f"offline-run-*-{self.run.id}*"
        self.run.finish(exit_code=0 if status == "completed" else 1)
        if offline:
            log.info("W&B: offline run in %s; `wandb sync %s` uploads it", folders.parent, folders)
