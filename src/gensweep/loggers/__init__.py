"""Where a run's metrics go besides metrics.csv, which every run writes and which stays the record: TensorBoard,
MLflow, Weights & Biases, one or several at once (`logger=[csv,tensorboard,mlflow,wandb]`, conf/logger/).

A logger mirrors metrics.csv and the sample grids. One that fails, at its start or mid-run (its server gone,
its disk full), warns once and is dropped for the rest of the run: a tracker never stops a run or loses any of
its work, which metrics.csv and the checkpoints hold.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from omegaconf import DictConfig

from gensweep.files import write_json

if TYPE_CHECKING:  # a sweep's launching process checks the loggers' packages without importing torch
    import torch

log = logging.getLogger("gensweep")

# Each logger the conf/logger group offers: the module it needs and how to install it (csv needs nothing).
PACKAGES = {
    "tensorboard": ("tensorboard", "pip install 'gensweep[tensorboard]'"),
    "mlflow": ("mlflow", "pip install 'gensweep[mlflow]'"),
    "wandb": ("wandb", "pip install 'gensweep[wandb]'"),
}
# Loggers that keep a copy of the sample grids (and W&B of the final images) inside the run folder.
IMAGE_COPIES = ("tensorboard", "wandb")
IDS = "loggers.json"  # the trackers' run ids, in the run folder: a resumed run continues the same tracked run
# summary.json's figures of the whole run, which a tracker gets at the run's end
SUMMARY_FIGURES = ("fid_real_floor", "classifier_accuracy", "wall_seconds", "startup_seconds")
# what a tracker keeps of a run beside its metrics: the final images and the run's records
RUN_FILES = (
    "curves.png",
    "interpolation.png",
    "interpolation.gif",
    "reconstructions.png",
    "summary.json",
    "metrics.csv",
)


def missing_package(chosen: DictConfig) -> str | None:
    """One line for the first chosen logger whose package is not installed, or None."""
    for name in chosen:
        module, install = PACKAGES.get(str(name), (None, ""))
        if module is not None and importlib.util.find_spec(module) is None:
            return (
                f"logger={name} needs the {module} package, which is not installed: {install}, or drop it from logger"
            )
    return None


def read_ids(run_dir: Path) -> dict[str, Any]:
    """What loggers.json keeps: each tracker's run id (and what it needs to continue that run)."""
    return json.loads((run_dir / IDS).read_text()) if (run_dir / IDS).is_file() else {}


def write_ids(run_dir: Path, **values: Any) -> None:
    write_json(run_dir / IDS, {**read_ids(run_dir), **values})


def finite_values(values: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, float]:
    """The finite numbers among `values` (of `keys` only, when given), as floats: what a tracker can log
    (a metrics.csv row's epochs without FID are empty; summary.json has text too)."""
    return {
        key: float(value)
        for key, value in values.items()
        if (keys is None or key in keys)
        and value is not None
        and not isinstance(value, (str, bool))
        and math.isfinite(float(value))
    }


@dataclass(frozen=True)
class RunInfo:
    """What a logger names a run by: its folder, its name, the sweep it belongs to, its resolved settings."""

    run_dir: Path
    name: str
    sweep: str | None  # the sweep folder, for a sweep's job
    config: dict[str, Any]  # the resolved config, nested


class Logger(Protocol):
    def epoch(self, row: dict[str, float], samples: torch.Tensor | None, nrow: int, grid: Path | None) -> None: ...

    def close(self, status: str, summary: dict[str, Any]) -> None: ...


# A logger is opened when the trainer starts: (whether it resumes, the epoch it resumes after, metrics.csv's rows).
Opener = Callable[[bool, int, list[dict[str, float]]], Logger]


class Loggers:
    """The run's loggers besides metrics.csv, each called in turn; one that raises is warned about once and
    dropped, the others and the run go on."""

    def __init__(self, openers: dict[str, Opener]) -> None:
        self.openers = openers
        self.open_ones: dict[str, Logger] = {}

    def open(self, resumed: bool, resume_epoch: int, rows: list[dict[str, float]]) -> None:
        for name, opener in self.openers.items():
            logger = self._call(name, opener, resumed, resume_epoch, rows)
            if logger is not None:
                self.open_ones[name] = logger

    def epoch(self, row: dict[str, float], samples: torch.Tensor | None, nrow: int, grid: Path | None) -> None:
        for name, logger in list(self.open_ones.items()):
            self._call(name, logger.epoch, row, samples, nrow, grid)

    def close(self, status: str, summary: dict[str, Any]) -> None:
        for name, logger in list(self.open_ones.items()):
            self._call(name, logger.close, status, summary)
        self.open_ones.clear()

    def _call(self, name: str, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except Exception as err:  # noqa: BLE001 - a tracker's failure (any library's, any server's) never stops the run
            self.open_ones.pop(name, None)
            first_line = str(err).splitlines()[0] if str(err) else ""
            log.warning(
                "warning: logger=%s failed and is off for the rest of this run (%s: %s); metrics.csv and the "
                "checkpoints keep every epoch",
                name,
                type(err).__name__,
                first_line,
            )
            return None


def build(chosen: DictConfig, info: RunInfo) -> Loggers:
    """The loggers `logger=...` chose (csv is metrics.csv, which the trainer always writes)."""
    openers: dict[str, Opener] = {}
    for name in chosen:
        settings = chosen[name]
        if name == "tensorboard":
            from gensweep.loggers.tensorboard import TensorBoardLog

            openers[name] = lambda resumed, epoch, rows: TensorBoardLog(info.run_dir / "tensorboard", epoch)
        elif name == "mlflow":
            from gensweep.loggers.mlflow import MLflowLog

            openers[name] = lambda resumed, epoch, rows, s=settings: MLflowLog(s, info, resumed, rows)
        elif name == "wandb":
            from gensweep.loggers.wandb import WandbLog

            openers[name] = lambda resumed, epoch, rows, s=settings: WandbLog(s, info, resumed, rows)
    return Loggers(openers)
