"""Hydra callback: write the sweep report when a multirun ends (failed jobs included)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("gensweep")


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Write the report; then, if any run did not complete, say which and exit 1. Read from the runs'
        summary.json files, so it holds under every launcher, jobs in other processes or on SLURM too."""
        from gensweep.report.runs import collect
        from gensweep.report.sweep import write_report  # matplotlib only when a sweep ends

        sweep = Path(config.hydra.sweep.dir)
        runs = collect(sweep)
        log.info("sweep report: %s", write_report(sweep, runs))
        failed = [str(r.folder) for r in runs if r.status != "completed"]
        if failed:
            print(
                f"gensweep: {len(failed)} run(s) of the sweep failed (status and error in each summary.json): "
                f"{', '.join(failed)}",
                file=sys.stderr,
            )
            sys.exit(1)
