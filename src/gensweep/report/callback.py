"""Hydra callback: write the sweep report when a multirun ends (failed jobs included)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("gensweep")


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from gensweep.report.sweep import write_report  # matplotlib only when a sweep ends

        readme = write_report(Path(config.hydra.sweep.dir))
        log.info("sweep report: %s", readme)
