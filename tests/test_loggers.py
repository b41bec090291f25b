"""The loggers beside metrics.csv: TensorBoard, MLflow and W&B hold the same numbers at the same epochs, also
after a resume; a sweep is one MLflow experiment and one W&B group; a logger that fails never stops the run."""

from __future__ import annotations

import json
import logging
import math
import re
import struct
from pathlib import Path

import pytest
from conftest import SMOKE, make_cfg, run_cli, train_run
from mlflow import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from wandb.proto import wandb_internal_pb2

from gensweep.config import validate
from gensweep.errors import ConfigError
from gensweep.files import read_csv
from gensweep.loggers.mlflow import MLflowLog

# Every test here runs the command line or trains, but the last: the full suite only.
slow = pytest.mark.slow


def _events(run_dir):
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


@slow
def test_tensorboard_scalars_match_metrics_csv_after_resume(tmp_path):
    args = ["model=gan", "logger=tensorboard", "metrics.every=1", *SMOKE]
    train_run(tmp_path, args + ["n_epochs=2"])
    train_run(tmp_path, args + ["n_epochs=3"], resume=True)
    rows = read_csv(tmp_path / "metrics.csv")
    acc = _events(tmp_path)
    for column, tag in [("jsd", "quality/jsd"), ("train_loss_d", "train/train_loss_d"), ("fid", "quality/fid")]:
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [1, 2, 3]
        assert [e.value for e in events] == pytest.approx([float(r[column]) for r in rows], rel=1e-5)
    images = acc.Images("samples")
    assert [e.step for e in images] == [1, 2, 3] and images[0].width > 64


def _history(client: MlflowClient, run_id: str, rows: list[dict[str, str]]) -> None:
    """Every metrics.csv column, read back from MLflow, holds the row's value at the row's epoch, once."""
    for column in rows[0]:
        if column == "epoch":
            continue
        logged = [(m.step, m.value) for m in client.get_metric_history(run_id, column)]
        expected = [(int(r["epoch"]), float(r[column])) for r in rows if r[column] and math.isfinite(float(r[column]))]
        assert logged == [(e, pytest.approx(v, rel=1e-9)) for e, v in expected], column


@slow
def test_mlflow_reads_back_every_metrics_csv_column_and_a_resume_continues_the_same_run(tmp_path, monkeypatch):
    """Epoch 1 without mlflow, epoch 2 resumed with it (the run is created and given epoch 1 from metrics.csv),
    epoch 3 resumed again (the same MLflow run): MLflow's own client reads back metrics.csv, every value once."""
    monkeypatch.chdir(tmp_path)  # nothing of MLflow's where the tests run from
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = tmp_path / "run"
    args = ["model=gan", "metrics.every=1", *SMOKE]
    mlflow = ["logger=[csv,mlflow]", f"logger.mlflow.tracking_uri={uri}", "logger.mlflow.experiment=resumed"]
    train_run(run, [*args, "n_epochs=1"])
    train_run(run, [*args, *mlflow, "n_epochs=2"], resume=True)
    first_id = json.loads((run / "loggers.json").read_text())["mlflow"]
    train_run(run, [*args, *mlflow, "n_epochs=3"], resume=True)

    client = MlflowClient(uri)
    (only,) = client.search_runs([client.get_experiment_by_name("resumed").experiment_id])
    assert only.info.run_id == first_id and only.info.status == "FINISHED"
    assert only.data.tags["gensweep.status"] == "completed"
    rows = read_csv(run / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    _history(client, first_id, rows)
    assert only.data.params["model._target_"] == "gensweep.models.gan.GAN" and only.data.params["z_dim"] == "100"
    summary = json.loads((run / "summary.json").read_text())
    assert only.data.metrics["fid"] == pytest.approx(float(rows[-1]["fid"]))  # the latest value: the final one
    assert only.data.metrics["fid_real_floor"] == pytest.approx(summary["fid_real_floor"])
    artifacts = {a.path for a in client.list_artifacts(first_id)} | {
        a.path for a in client.list_artifacts(first_id, "samples")
    }
    assert {"curves.png", "metrics.csv", "summary.json", "samples/epoch_002.png", "samples/epoch_003.png"} <= artifacts
    assert (tmp_path / "mlartifacts").is_dir() and not (tmp_path / "mlruns").exists()  # beside the database


def _wandb_records(path: Path):
    """The records of an offline run's .wandb file: W&B's header, then LevelDB's log format (32 KiB blocks of
    chunks, each with a 7-byte header: checksum, length, type), each record a protobuf of W&B's Record."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, chunks = 7, b""
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's tail too short for a chunk header is padding
            pos += 32768 - pos % 32768
            continue
        _checksum, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunks += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunks)
            chunks = b""
            yield record


def _wandb_run(folders: list[Path]) -> dict:
    """What a W&B run's offline folders hold, in order: its history rows by step (each step's rows counted), the
    summary as the last folder leaves it, its run record, files and exit codes."""
    run: dict = {"history": {}, "steps": [], "summary": {}, "files": set(), "exit": []}
    for folder in folders:
        (path,) = folder.glob("run-*.wandb")
        for record in _wandb_records(path):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run["run"] = record.run
                run["summary"] = {}
            elif kind == "history":
                row = {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item}
                run["steps"].append(row["_step"])
                run["history"][row["_step"]] = row
            elif kind == "summary":
                run["summary"].update(
                    {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.summary.update}
                )
            elif kind == "files":
                run["files"] |= {f.path for f in record.files.files}
            elif kind == "exit":
                run["exit"].append(record.exit.exit_code)
    return run


def _wandb_history(run: dict, rows: list[dict[str, str]]) -> None:
    """Every metrics.csv column, read back from W&B's history, holds the row's value at the row's epoch, once."""
    assert run["steps"] == [int(r["epoch"]) for r in rows]
    for r in rows:
        logged = run["history"][int(r["epoch"])]
        for column, value in r.items():
            if column != "epoch" and value and math.isfinite(float(value)):
                assert logged[column] == pytest.approx(float(value), rel=1e-9), (r["epoch"], column)


def _offline_folders(run_dir: Path) -> list[Path]:
    run_id = json.loads((run_dir / "loggers.json").read_text())["wandb"]
    folders = sorted((run_dir / "wandb").glob("offline-run-*"))
    # one W&B run (W&B adds -1 to a folder whose name a resume in the same second already took)
    assert folders and all(re.fullmatch(rf"offline-run-\d{{8}}_\d{{6}}-{run_id}(-\d+)?", f.name) for f in folders)
    return folders


@slow
def test_wandb_offline_run_reads_back_metrics_csv_and_a_resume_continues_the_same_run(tmp_path, monkeypatch):
    """Offline by default. Epoch 1 without wandb, epoch 2 resumed with it (the W&B run gets epoch 1 from
    metrics.csv), epoch 3 resumed again into the same W&B run: its offline folders hold every metrics.csv
    value once, the final FID in the summary, the config, the sample grids and the run's files."""
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "cache"))  # W&B's own logs, not in the home folder
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "config"))
    run_dir = tmp_path / "run"
    args = ["model=gan", "metrics.every=1", *SMOKE]
    train_run(run_dir, [*args, "n_epochs=1"])
    train_run(run_dir, [*args, "logger=[csv,wandb]", "n_epochs=2"], resume=True)
    train_run(run_dir, [*args, "logger=[csv,wandb]", "n_epochs=3"], resume=True)

    folders = _offline_folders(run_dir)
    assert len(folders) == 2  # offline, each resume writes one more folder of the same run
    run = _wandb_run(folders)
    rows = read_csv(run_dir / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    _wandb_history(run, rows)
    grids = sorted(int(p.stem.split("_")[1]) for p in (run_dir / "samples").glob("epoch_*.png"))
    assert grids and [e for e in run["steps"] if "samples/_type" in run["history"][e]] == grids
    summary = json.loads((run_dir / "summary.json").read_text())
    assert run["summary"]["fid"] == pytest.approx(float(rows[-1]["fid"]))
    assert run["summary"]["fid_real_floor"] == pytest.approx(summary["fid_real_floor"])
    assert run["summary"]["status"] == "completed" and run["exit"] == [0, 0]
    config = {i.key: json.loads(i.value_json) for i in run["run"].config.update}
    assert config["model"]["_target_"] == "gensweep.models.gan.GAN" and config["z_dim"] == 100
    assert run["run"].run_group == ""  # a single run is in no group
    assert {"curves.png", "metrics.csv", "summary.json"} <= run["files"]


@slow
def test_a_sweep_is_one_mlflow_experiment_and_one_wandb_group_with_its_jobs_as_runs(tmp_path, monkeypatch):
    """Two jobs at once on the joblib launcher, into the default store (outputs/mlflow.db), new to both."""
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "config"))
    proc = run_cli(
        ["model=vae,gan", "n_epochs=1", *SMOKE, "logger=[csv,mlflow,wandb]", "hydra/launcher=joblib", "-m"],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (sweep,) = (tmp_path / "outputs" / "multirun").glob("*/*")
    client = MlflowClient(f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(str(sweep.relative_to(tmp_path)))
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["model=gan", "model=vae"]  # what the sweep varies
    assert {r.info.status for r in runs} == {"FINISHED"}
    for job in ("0", "1"):
        run_id = json.loads((sweep / job / "loggers.json").read_text())["mlflow"]
        _history(client, run_id, read_csv(sweep / job / "metrics.csv"))
    assert not list((tmp_path / "outputs").glob("*.lock"))
    runs = [_wandb_run(_offline_folders(sweep / job)) for job in ("0", "1")]
    assert {r["run"].run_group for r in runs} == {str(sweep.relative_to(tmp_path))}
    assert [r["run"].display_name for r in runs] == ["model=vae", "model=gan"]
    for job, run in zip(("0", "1"), runs, strict=True):
        _wandb_history(run, read_csv(sweep / job / "metrics.csv"))


@slow
def test_a_logger_that_fails_warns_once_and_the_run_goes_on(tmp_path, monkeypatch, caplog):
    """A tracking server that cannot be reached at the start, and a store that fails mid-run: each is one
    warning, and the run completes with every epoch in metrics.csv."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    args = ["model=vae", "n_epochs=2", *SMOKE, "logger=[csv,mlflow]"]
    with caplog.at_level(logging.WARNING, logger="gensweep"):
        summary = train_run(tmp_path / "gone", [*args, "logger.mlflow.tracking_uri=http://127.0.0.1:9"])
    assert summary["status"] == "completed" and len(read_csv(tmp_path / "gone" / "metrics.csv")) == 2
    (warning,) = [r.getMessage() for r in caplog.records if "logger=mlflow failed" in r.getMessage()]
    assert "off for the rest of this run" in warning

    caplog.clear()
    calls = []

    def fails_at_epoch_2(self, row, samples, nrow, grid):
        calls.append(int(row["epoch"]))
        if row["epoch"] == 2:
            raise ConnectionError("the tracking server went away")
        self._log_row(row)

    monkeypatch.setattr(MLflowLog, "epoch", fails_at_epoch_2)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with caplog.at_level(logging.WARNING, logger="gensweep"):
        summary = train_run(tmp_path / "mid", [*args, "n_epochs=3", f"logger.mlflow.tracking_uri={uri}"])
    assert summary["status"] == "completed" and len(read_csv(tmp_path / "mid" / "metrics.csv")) == 3
    assert calls == [1, 2]  # dropped after its failure, not called for epoch 3 or at the close
    (warning,) = [r.getMessage() for r in caplog.records if "logger=mlflow failed" in r.getMessage()]
    assert "ConnectionError: the tracking server went away" in warning
    run_id = json.loads((tmp_path / "mid" / "loggers.json").read_text())["mlflow"]
    assert [m.step for m in MlflowClient(uri).get_metric_history(run_id, "step")] == [1]


def test_a_logger_whose_package_is_missing_is_one_line_naming_the_extra(monkeypatch):
    import gensweep.loggers as loggers

    real = loggers.importlib.util.find_spec
    missing = ("mlflow", "wandb")
    monkeypatch.setattr(loggers.importlib.util, "find_spec", lambda name: None if name in missing else real(name))
    with pytest.raises(ConfigError, match=r"logger=mlflow needs the mlflow package, which is not installed: "):
        validate(make_cfg(["logger=[csv,tensorboard,mlflow]"]))
    assert "pip install 'gensweep[mlflow]'" in loggers.missing_package(make_cfg(["logger=mlflow"]).logger)
    assert "pip install 'gensweep[wandb]'" in loggers.missing_package(make_cfg(["logger=[csv,wandb]"]).logger)
    assert loggers.missing_package(make_cfg(["logger=[csv,tensorboard]"]).logger) is None
