"""Hydra callback: write the sweep report when a multirun ends (failed jobs included)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("gensweep")
# Folders of the last sweep's runs that did not complete: the command exits 1 when there are any. Read from
# the runs' summary.json files, so it holds under every launcher, jobs in other processes or on SLURM too.
not_completed: list[str] = []


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from gensweep.report.sweep import collect, write_report  # matplotlib only when a sweep ends

        sweep = Path(config.hydra.sweep.dir)
        runs = collect(sweep)
        log.info("sweep report: %s", write_report(sweep, runs))
        not_completed[:] = [str(r.folder) for r in runs if r.status != "completed"]
