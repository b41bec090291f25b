"""logger=mlflow: each run as an MLflow run, in a local SQLite store by default or on a tracking server.

- Store: `logger.mlflow.tracking_uri`, else MLFLOW_TRACKING_URI, else `sqlite:///outputs/mlflow.db`; a SQLite
  store keeps the artifacts beside its database (outputs/mlartifacts/). SQLite rather than MLflow's file
  store: the file store is legacy since MLflow 3.7 made SQLite its default, and one database file serves every
  run and sweep under outputs/ (`mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db`). Jobs of a sweep
  that start at once take turns on a lock of the store's folder while the store is created.
- Experiment: `logger.mlflow.experiment`, else the sweep folder for a sweep's jobs (one experiment per sweep,
  its jobs as runs side by side), else "gensweep" for single runs.
- A run logs its resolved config as parameters, every metrics.csv column at each epoch (step = epoch) once the
  epoch's checkpoint is written, each sample grid, and at the end the curves, images, summary and metrics.csv
  as artifacts, the summary's figures of the whole run (the real-data FID floor, wall seconds), and its
  status (FINISHED, KILLED for a stopped run, FAILED). A resumed run continues the same MLflow run (its id is
  kept in the run folder's loggers.json) and first logs the epochs metrics.csv has and MLflow lacks.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from omegaconf import DictConfig

from gensweep.loggers import RUN_FILES, SUMMARY_FIGURES, RunInfo, finite_values, read_ids, write_ids

STORE = Path("outputs")  # beside outputs/runs and outputs/multirun, in the folder gensweep runs from
STATUS = {"completed": "FINISHED", "interrupted": "KILLED", "diverged": "FAILED", "failed": "FAILED"}


def default_uri() -> str:
    return f"sqlite:///{(STORE / 'mlflow.db').absolute()}"


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Jobs of a sweep opening a new SQLite store at once take turns (each would otherwise create its tables):
    a lock on the store's folder, which leaves no lock file behind."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    folder = Path(uri.removeprefix("sqlite:///")).parent
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def flat_params(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The nested config as MLflow parameters: model.lr -> '0.0002', lists as their text."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


class MLflowLog:
    def __init__(self, settings: DictConfig, info: RunInfo, resumed: bool, rows: list[dict[str, float]]) -> None:
        logging.getLogger("mlflow").setLevel(logging.WARNING)  # not its lines on creating the store's tables
        self.run_dir = info.run_dir
        uri = settings.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_uri()
        ids = read_ids(self.run_dir)
        with _store_lock(uri):
            self.client = MlflowClient(uri)
            self.run_id = ids.get("mlflow") if resumed else None
            if self.run_id is not None:
                self.client.update_run(self.run_id, status="RUNNING")
            else:
                experiment = settings.experiment or info.sweep or "gensweep"
                self.run_id = self._new_run(uri, experiment, info)
        write_ids(self.run_dir, mlflow=self.run_id)
        logged = {m.step for m in self.client.get_metric_history(self.run_id, "step")}
        for row in rows:  # epochs metrics.csv kept that MLflow lacks: a resumed run's, or a first run under mlflow
            if int(row["epoch"]) not in logged:
                self._log_row(row)

    def _new_run(self, uri: str, experiment: str, info: RunInfo) -> str:
        found = self.client.get_experiment_by_name(experiment)
        if found is None:
            where = None  # a server's own artifact store
            if uri.startswith("sqlite:///"):  # beside the database (MLflow's own default: ./mlruns where it runs)
                folder = Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts"
                where = (folder / experiment.replace("/", "_")).absolute().as_uri()
            try:
                # a model-training experiment: the MLflow UI opens on its runs table, not on its GenAI pages
                tags = {"mlflow.experimentKind": "custom_model_development"}
                experiment_id = self.client.create_experiment(experiment, artifact_location=where, tags=tags)
            except MlflowException:  # another job of the sweep made it meanwhile
                experiment_id = self.client.get_experiment_by_name(experiment).experiment_id
        else:
            experiment_id = found.experiment_id
        tags = {"gensweep.run_dir": str(info.run_dir.absolute())}
        run = self.client.create_run(experiment_id, run_name=info.name, tags=tags)
        params = flat_params(info.config)
        items = list(params.items())
        for start in range(0, len(items), 100):  # MLflow takes at most 100 parameters a call
            self.client.log_batch(run.info.run_id, params=[Param(k, v[:6000]) for k, v in items[start : start + 100]])
        return run.info.run_id

    def _log_row(self, row: dict[str, float]) -> None:
        now = int(time.time() * 1000)
        epoch = int(row["epoch"])
        metrics = [Metric(key, value, now, epoch) for key, value in finite_values(row).items() if key != "epoch"]
        self.client.log_batch(self.run_id, metrics=metrics)

    def epoch(self, row: dict[str, float], samples: torch.Tensor | None, nrow: int, grid: Path | None) -> None:
        self._log_row(row)
        if grid is not None:
            self.client.log_artifact(self.run_id, str(grid), "samples")

    def close(self, status: str, summary: dict[str, Any]) -> None:
        # the run's figures that are not per epoch (the last epoch's are the metrics' latest values)
        now = int(time.time() * 1000)
        epoch = int(summary.get("epochs_completed") or 0)
        figures = [Metric(key, value, now, epoch) for key, value in finite_values(summary, SUMMARY_FIGURES).items()]
        if figures:
            self.client.log_batch(self.run_id, metrics=figures)
        for name in RUN_FILES:
            if (self.run_dir / name).is_file():
                self.client.log_artifact(self.run_id, str(self.run_dir / name))
        self.client.set_tag(self.run_id, "gensweep.status", status)
        self.client.set_terminated(self.run_id, STATUS.get(status, "FAILED"))
