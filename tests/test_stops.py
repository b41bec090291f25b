"""Nothing lost: divergence, SIGTERM/SIGINT and SIGKILL at any moment, and failing jobs in a sweep.

Real subprocesses and real signals; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SMOKE, run_cli

from gensweep.files import read_csv
from gensweep.train.stops import StopSignals

FAST = [*SMOKE, "metrics.backbone=none", "trainer.sample_every=1000"]
LOSS_COLUMNS = ("train_loss", "val_loss", "train_recon", "val_kl")


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gensweep", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_rows(run_parent: Path, rows: int, proc: subprocess.Popen, timeout: float = 120) -> Path:
    """The run folder, once its metrics.csv has `rows` rows (the process still running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for csv_path in run_parent.glob("*/*/metrics.csv"):
            if len(csv_path.read_text().splitlines()) > rows:
                return csv_path.parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no {rows} rows within {timeout}s")


def _wait_until(ready, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    """Poll for a marker the process writes (never a fixed sleep: a busy machine only makes it later)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} within {timeout}s")
        time.sleep(0.02)


def _loss_rows(run: Path) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in ("epoch", "step", *LOSS_COLUMNS)) for r in read_csv(run / "metrics.csv")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[tuple[str, ...]]:
    """metrics.csv loss columns of an uninterrupted 12-epoch VAE run."""
    cwd = tmp_path_factory.mktemp("reference")
    proc = run_cli(["n_epochs=12", *FAST], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((cwd / "outputs" / "runs").glob("*/*"))
    return _loss_rows(run)


@pytest.mark.slow
def test_two_runs_with_one_seed_write_identical_losses(tmp_path, reference):
    proc = run_cli(["n_epochs=12", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    assert _loss_rows(run) == reference


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM])  # SIGINT and SIGUSR2 take the same path: see below
def test_signal_checkpoints_mid_epoch_and_resume_loses_nothing(tmp_path, reference, signum):
    proc = _start(["n_epochs=12", *FAST], tmp_path)
    run = _wait_for_rows(tmp_path / "outputs" / "runs", 2, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and "resume=true" in err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    rows_before = _loss_rows(run)
    assert rows_before == reference[: len(rows_before)]  # nothing half-written
    resumed = run_cli(["n_epochs=12", "resume=true", *FAST], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert _loss_rows(run) == reference  # the same numbers as never stopping
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGUSR2])
def test_stop_signals_are_caught_once_and_handed_on(signum):
    """Each stop signal only marks the run; a scheduler's handler from before (submitit's requeue) is kept to
    be called after the checkpoint, and the old handlers are back for a second signal."""
    seen = []
    before = signal.signal(signum, lambda s, f: seen.append(s))
    try:
        with StopSignals() as stops:
            os.kill(os.getpid(), signum)  # Python runs the handler before the next statement
            assert stops.received == signum and seen == []
            stops.forward(signum, None)
            assert seen == [signum]
            os.kill(os.getpid(), signum)  # the second one goes straight to the old handler
            assert seen == [signum, signum]
    finally:
        signal.signal(signum, before)


# The real command line, held at one start-up point: the FID classifier's training (reached after Hydra made
# the run folder and the job loaded its data) writes a marker file and waits there until a signal comes.
# SIGINT gets Python's own handler, as at a terminal: a process started in the background of a
# non-interactive shell (a CI script's `cmd &`) inherits SIGINT ignored, and would sleep through it.
HELD_AT_STARTUP = """
import os, signal, sys, time
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
import gensweep.metrics.classifier as classifier
def held(*args, **kwargs):
    Path(os.environ["GENSWEEP_TEST_MARKER"]).write_text("held")
    time.sleep(3600)
classifier.train_classifier = held
from gensweep.cli import main
main()
"""


@pytest.mark.slow
def test_ctrl_c_while_starting_up_is_one_line_and_leaves_no_empty_run_folder(tmp_path):
    """SIGINT before the training loop (which would checkpoint instead): no traceback, exit 130."""
    marker = tmp_path / "held"
    args = [*SMOKE, f"dataset.cache_dir={tmp_path / 'cache'}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GENSWEEP_TEST_MARKER": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD_AT_STARTUP, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_until(marker.exists, proc, "start-up marker")
    assert list((tmp_path / "outputs" / "runs").glob("*/*"))  # the run folder exists while it is held
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "gensweep: interrupted while starting up" in err
    assert not list((tmp_path / "outputs" / "runs").glob("*/*"))  # the refused start left no folder


@pytest.mark.slow
def test_sigkill_at_three_moments_then_resume(tmp_path, reference):
    """Killed hard three times: just after an epoch's row, just after a resume loaded its checkpoint (before
    its first step), and as the resumed run lands a new row; each resume continues from the last finished
    epoch and the end result equals the uninterrupted run."""
    args = ["n_epochs=12", *FAST]
    proc = _start(args, tmp_path)
    run = _wait_for_rows(tmp_path / "outputs" / "runs", 1, proc)

    def kill_and_check() -> int:
        proc.kill()
        proc.wait(timeout=30)
        rows = _loss_rows(run)
        assert rows == reference[: len(rows)]  # whole rows only, no duplicates
        return len(rows)

    rows = kill_and_check()
    resumes = (run / "gensweep.log").read_text().count("resumed from")
    proc = _start([*args, "resume=true"], tmp_path)
    _wait_until(lambda: (run / "gensweep.log").read_text().count("resumed from") > resumes, proc, "resume line")
    rows = kill_and_check()
    proc = _start([*args, "resume=true"], tmp_path)
    _wait_until(lambda: len(_loss_rows(run)) > rows, proc, "new row")
    kill_and_check()
    final = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    assert _loss_rows(run) == reference


@pytest.mark.slow
def test_divergence_stops_the_run_and_keeps_the_last_checkpoint(tmp_path):
    proc = run_cli(["lr=1e6", "n_epochs=3", *FAST], cwd=tmp_path)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "diverged at epoch 1, step" in proc.stderr and "train_loss" in proc.stderr
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "diverged" and "lower lr" in summary["error"].lower()
    # the checkpoint left is the run's initial state, not the diverged weights
    import torch

    state = torch.load(run / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 0 and state["step"] == 0 and state["partial"] is None


@pytest.mark.slow
def test_a_sweep_survives_a_diverging_and_a_crashing_job(tmp_path):
    proc = run_cli(["n_epochs=2", *FAST, "lr=1e-3,1e6", "-m"], cwd=tmp_path)  # job 1 diverges
    assert proc.returncode == 1, proc.stderr
    assert "1 run(s) of the sweep failed" in proc.stderr
    # job 1 raises while splitting the data (a split seed that is not a number): an exception no check anticipated
    (tmp_path / "crash").mkdir()
    crash = run_cli(["n_epochs=1", *FAST, "dataset.split_seed=0,abc", "-m"], cwd=tmp_path / "crash")
    assert crash.returncode == 1, crash.stderr
    sweeps = sorted((tmp_path / "outputs" / "multirun").glob("*/*"))
    statuses = [json.loads((sweeps[0] / j / "summary.json").read_text())["status"] for j in ("0", "1")]
    assert statuses == ["completed", "diverged"]
    (crash_sweep,) = list((tmp_path / "crash" / "outputs" / "multirun").glob("*/*"))
    failed = json.loads((crash_sweep / "1" / "summary.json").read_text())
    assert failed["status"] == "failed" and "Traceback" in (crash_sweep / "1" / "traceback.txt").read_text()
    assert json.loads((crash_sweep / "0" / "summary.json").read_text())["status"] == "completed"
    with open(crash_sweep / "report" / "runs.csv") as f:
        assert "failed" in f.read()


@pytest.mark.slow
def test_corrupt_checkpoint_is_refused_and_kept(tmp_path):
    first = run_cli(["n_epochs=1", *FAST], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    ckpt = run / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])  # truncated, as by a full disk
    again = run_cli(["n_epochs=2", "resume=true", *FAST], cwd=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "no run under outputs/runs/ fits model=vae" in again.stderr and "(unreadable checkpoint)" in again.stderr
    named = run_cli(["n_epochs=2", f"resume={run}", *FAST], cwd=tmp_path)
    assert named.returncode == 2 and "Traceback" not in named.stderr
    assert "is not a readable checkpoint" in named.stderr and "train from scratch" in named.stderr
    assert len(ckpt.read_bytes()) == 1000  # not overwritten
    assert [r["epoch"] for r in read_csv(run / "metrics.csv")] == ["1"]


@pytest.mark.slow
def test_quality_metrics_do_not_shift_the_training_stream(tmp_path):
    """A run that trains the FID classifier, one that loads it from the cache and one without metrics train
    the same: building a backbone must not draw from the training random stream."""
    from conftest import train_run

    args = ["model=gan", "n_epochs=2", *SMOKE, f"dataset.root={tmp_path / 'data'}"]
    cold = train_run(tmp_path / "cold", args)["final"]
    warm = train_run(tmp_path / "warm", args)["final"]
    none = train_run(tmp_path / "none", [*args, "metrics.backbone=none"])["final"]
    for key in ("train_loss_d", "train_loss_g", "val_loss_d"):
        assert cold[key] == warm[key] == none[key]


@pytest.mark.slow
def test_checkpoint_of_an_older_recipe_is_refused_and_kept(tmp_path):
    """A run made before the GAN recipes changed (other networks, no generator average, other step counters)
    is refused with one line when resumed, and its checkpoint is left as it was."""
    import torch
    from conftest import train_run

    from gensweep.errors import CheckpointError

    args = ["model=gan", "n_epochs=1", *SMOKE, "metrics.backbone=none"]
    train_run(tmp_path, args)
    ckpt = tmp_path / "checkpoint.pt"
    state = torch.load(ckpt, weights_only=False)
    weights = state["model"]["weights"]
    for key in [k for k in weights if k.startswith("nets.generator_ema.")]:
        del weights[key]
    weights["_extra_state"] = {"d_calls": 4}
    torch.save(state, ckpt)
    before = ckpt.read_bytes()
    with pytest.raises(CheckpointError) as err:
        train_run(tmp_path, ["model=gan", "n_epochs=2", *SMOKE, "metrics.backbone=none"], resume=True)
    message = str(err.value)
    assert "networks of another layout" in message and "start a fresh run" in message and "\n" not in message
    assert ckpt.read_bytes() == before
    assert [r["epoch"] for r in read_csv(tmp_path / "metrics.csv")] == ["1"]


OUT_OF_MEMORY_IN_EPOCH_2 = """
import torch
from gensweep.models.vae import VAE
step, calls = VAE.train_step, []
def step_then_fail(self, *args):
    calls.append(1)
    if len(calls) > 2:  # 128 images at batch 64 (debug=smoke): the first step of epoch 2
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (and a page of statistics)")
    return step(self, *args)
VAE.train_step = step_then_fail
from gensweep.cli import main
main()
"""


@pytest.mark.slow
def test_out_of_gpu_memory_is_one_line_and_keeps_the_checkpoint(tmp_path):
    """The GPU's out-of-memory error (faked here, in the second epoch) is one line naming the fixes; the
    first epoch's checkpoint stays, and resume continues from it."""
    args = ["n_epochs=3", *FAST]
    proc = subprocess.run(
        [sys.executable, "-c", OUT_OF_MEMORY_IN_EPOCH_2, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("gensweep: error: out of GPU memory on cpu; ")
    assert "the last checkpoint (after epoch 1) is kept" in proc.stderr and "jobs_per_gpu" in proc.stderr
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "out of GPU memory" in summary["error"]
    resumed = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert [r["epoch"] for r in read_csv(run / "metrics.csv")] == ["1", "2", "3"]
