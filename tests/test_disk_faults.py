"""A write that fails (full disk, quota, read-only or unwritable folder, I/O error) is one line naming the file
and the fix; the partial file is removed and the file it would have replaced is intact.

Every writer goes through gensweep.files.atomic_write: the unit tests inject the fault at its fsync, for each
writer; the end-to-end tests run the real command on a small tmpfs (where this machine lets them mount one).
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import SMOKE, run_cli, tree_hash

from gensweep import files
from gensweep.artifacts.images import save_grid
from gensweep.artifacts.plots import plot_curves
from gensweep.errors import WriteFailed
from gensweep.files import atomic_write, read_csv, write_csv, write_json, write_text
from gensweep.train import checkpoint

QUICK = [*SMOKE, "metrics.backbone=none"]


def fail_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Every write fails as the disk would, at its fsync, after part of the file reached the temp file."""

    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, "fsync", fsync)


WRITERS = {
    "checkpoint": lambda path: checkpoint.save(path, {"weights": torch.zeros(1000)}),
    "summary": lambda path: write_json(path, {"status": "running"}),
    "metrics": lambda path: write_csv(path, [{"epoch": 1, "loss": 0.5}]),
    "grid": lambda path: save_grid(torch.rand(4, 3, 8, 8), path, nrow=2),
    "curves": lambda path: plot_curves([{"epoch": 1, "loss": 1.0}], [("loss", ["loss"])], path, "a run"),
    "report": lambda path: write_text(path, "# report\n"),
    "cache": lambda path: atomic_write(path, lambda f: torch.save({"images": torch.zeros(10)}, f)),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_each_writer_fails_in_one_line_and_keeps_the_old_file(tmp_path, monkeypatch, writer):
    path = tmp_path / f"{writer}.out"
    path.write_bytes(b"the last good version")
    fail_writes(monkeypatch, errno.ENOSPC)
    with pytest.raises(WriteFailed) as caught:
        WRITERS[writer](path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"cannot write {path}: its disk is full (")
    assert " free, " in message and " needed); free space there or move the folder to a larger disk" in message
    assert path.read_bytes() == b"the last good version"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


@pytest.mark.parametrize(
    "code,reason",
    [
        (errno.ENOSPC, "its disk is full"),
        (errno.EDQUOT, "the disk quota is reached"),
        (errno.EROFS, "its file system is read-only; choose a writable folder"),
        (errno.EACCES, "no permission to write there; make the folder writable or choose another"),
        (errno.EIO, "an I/O error on its disk; check the disk"),
    ],
)
def test_each_kind_of_write_error_names_its_reason_and_fix(tmp_path, monkeypatch, code, reason):
    fail_writes(monkeypatch, code)
    with pytest.raises(WriteFailed, match=reason):
        write_json(tmp_path / "summary.json", {"status": "running"})
    assert list(tmp_path.iterdir()) == []


def test_a_failure_that_is_not_the_disk_is_not_hidden(tmp_path):
    def broken(f):
        raise RuntimeError("a bug in the writer")

    with pytest.raises(RuntimeError, match="a bug in the writer"):
        atomic_write(tmp_path / "x", broken)


def _write_many(path: Path, tag: bytes, times: int) -> None:
    for _ in range(times):
        atomic_write(path, tag * 100_000)


def test_two_processes_writing_one_file_at_once_each_land_a_whole_copy(tmp_path):
    """Two jobs of a sweep on a new machine build the same dataset or classifier cache at once: neither fails,
    and the file is always one writer's whole copy."""
    path = tmp_path / "cache.pt"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(path, tag, 100)) for tag in (b"a", b"b")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert path.read_bytes() in (b"a" * 100_000, b"b" * 100_000)
    assert [p.name for p in tmp_path.iterdir()] == ["cache.pt"]


@pytest.fixture
def small_disk(tmp_path):
    """mount(size, name): a tmpfs of that size under tmp_path; skips where this machine cannot mount one."""
    mounted: list[Path] = []

    def mount(size: str, name: str = "disk") -> Path:
        where = tmp_path / name
        where.mkdir()
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
        )
        if proc.returncode:
            pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip()}): the mount needs root")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


def fill(disk: Path) -> Path:
    """Take every free byte of `disk` with one file, as another user's job would."""
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC
    return filler


def wait_for_row(metrics: Path, proc: subprocess.Popen) -> None:
    """Until the run has written its first epoch's row (or has exited)."""
    while proc.poll() is None and not (metrics.is_file() and len(read_csv(metrics)) >= 1):
        time.sleep(0.05)


@pytest.mark.slow
def test_too_little_space_is_refused_before_the_run_starts(tmp_path, small_disk):
    disk = small_disk("600k")
    proc = run_cli(["model=vae", "n_epochs=8", *QUICK, f"hydra.run.dir={disk}/run"], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"gensweep: error: {disk}/run has " in proc.stderr
    assert " free on its disk and this run writes up to " in proc.stderr
    assert list(disk.iterdir()) == []  # not even Hydra's record


@pytest.mark.slow
def test_a_disk_that_fills_mid_run_stops_it_in_one_line_and_resume_finishes_it(tmp_path, small_disk):
    disk = small_disk("60m")
    run = disk / "run"
    args = ["model=vae", *QUICK, f"hydra.run.dir={run}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gensweep", *args, "n_epochs=500"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_row(run / "metrics.csv", proc)
    filler = fill(disk)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 5, stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"gensweep: error: cannot write {run}/") and "its disk is full (" in stderr
    assert f"then resume={run} continues" in stderr
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"].startswith("cannot write")
    done = int(torch.load(run / "checkpoint.pt", weights_only=False)["epoch"])  # the last good one still loads

    full = tree_hash(run)
    refused = run_cli([*args, f"n_epochs={done + 2}", f"resume={run}"], cwd=tmp_path)  # the disk still full
    assert refused.returncode == 2 and " free on its disk and this run writes up to " in refused.stderr
    assert tree_hash(run) == full  # its record and log as they were

    filler.unlink()  # space freed
    again = run_cli([*args, f"n_epochs={done + 2}", f"resume={run}"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [int(r["epoch"]) for r in read_csv(run / "metrics.csv")] == list(range(1, done + 3))
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_a_sweep_job_that_cannot_write_fails_alone(tmp_path, small_disk):
    """Job 0's caches (here the FID classifier's) go to a read-only disk: it fails with its reason, job 1
    completes, the report lists both and the sweep exits 1."""
    read_only = small_disk("1m", "ro")
    remount(read_only, "ro")
    writable = tmp_path / "cache"
    sweep = tmp_path / "sweep"
    proc = run_cli(
        [f"dataset.cache_dir={read_only},{writable}", "n_epochs=1", *SMOKE, f"hydra.sweep.dir={sweep}", "-m"],
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "1 run(s) of the sweep failed" in proc.stderr
    failed = json.loads((sweep / "0" / "summary.json").read_text())
    assert failed["status"] == "failed" and "its file system is read-only" in failed["error"], failed
    assert json.loads((sweep / "1" / "summary.json").read_text())["status"] == "completed"
    rows = read_csv(sweep / "report" / "runs.csv")
    assert [r["status"] for r in rows] == ["failed", "completed"]
