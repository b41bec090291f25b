"""The real command line: single runs land in outputs/runs, sweeps in outputs/multirun
(resume: test_resume_choice.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import fake_data as fake
import pytest
from conftest import SMOKE, run_cli

from gensweep.files import read_csv

# Every test here runs the command line or trains: the full suite only (pytest -m 'not slow' skips them).
pytestmark = pytest.mark.slow


def test_multirun_makes_one_folder_per_job(tmp_path):
    proc = run_cli(["model=wgan", "z_dim=50,100", "n_layers=2,3", "n_epochs=1", *SMOKE, "-m"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir() and p.name != "report")
    assert jobs == ["0", "1", "2", "3"]
    seen = set()
    for job in jobs:
        rows = read_csv(sweep / job / "metrics.csv")
        assert len(rows) == 1 and "emd" in rows[0]
        overrides = (sweep / job / ".hydra" / "overrides.yaml").read_text()
        seen.add(tuple(k for k in ("z_dim=50", "z_dim=100", "n_layers=2", "n_layers=3") if k in overrides))
    assert len(seen) == 4


def test_cfg_job_prints_resolved_config(tmp_path):
    proc = run_cli(["model=wgan", "z_dim=64", "--cfg", "job"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "z_dim: 64" in proc.stdout and "clip: 0.01" in proc.stdout and "n_critic: 1" in proc.stdout
    assert not (tmp_path / "outputs").exists()


def test_the_launching_process_never_imports_torch():
    """A sweep's launching process (command line, Hydra, its checks, the report) stays light: under joblib or
    SLURM the jobs train in other processes, each importing torch itself; the launcher importing it too cost
    2 s. It imports torch only to fetch and convert a set no run has converted before (gensweep.data.prepare)."""
    code = (
        "import sys, gensweep.cli, gensweep.start_checks, gensweep.data, gensweep.report.callback, "
        "gensweep.report.sweep, gensweep.report.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_sweep_whose_data_cannot_be_had_is_refused_in_one_line_before_any_job(tmp_path):
    """The launching process prepares each set the jobs use once (MNIST here: converted into its cache) and
    refuses, in one line with the files' layout, a set it cannot have (CIFAR-10, not downloaded here): no job
    starts, no sweep folder is made, the jobs never print the error each."""
    data = tmp_path / "data"
    fake.mnist(data)
    args = ["dataset=mnist,cifar10", "++dataset.download=false", "model=vae,gan", f"paths.data_dir={data}"]
    proc = run_cli([*args, "n_epochs=1", "-m"], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"gensweep: error: CIFAR-10 files not found under {data}.")
    assert f"{data}/cifar-10-batches-py/data_batch_1;" in proc.stderr  # the layout, in the same line
    assert "  " not in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no outputs/
    cache = sorted(p.name for p in (data / "gensweep-cache").iterdir())
    assert cache == ["mnist-test-28px-1ch-v1.pt", "mnist-train-28px-1ch-v1.pt"]


def test_resume_without_a_checkpoint_is_one_line(tmp_path):
    proc = run_cli(["resume=true", "n_epochs=1"], cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "resume=true: no run folder under outputs/runs/ has a checkpoint.pt" in proc.stderr


def test_a_failing_job_does_not_stop_the_sweep_under_joblib(tmp_path):
    """Under joblib the jobs run in other processes: the exit status comes from the runs' summaries (the basic
    launcher's case is test_report.py's sweep with failing runs)."""
    proc = run_cli(["model=cae", "debug=smoke", "batch_size=32,4096", "hydra/launcher=joblib", "-m"], cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "1 run(s) of the sweep failed" in proc.stderr
    assert "Warning" not in proc.stderr  # not Hydra's schema-matching deprecation, from each worker
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    assert json.loads((sweep / "0" / "summary.json").read_text())["status"] == "completed"
    failed = json.loads((sweep / "1" / "summary.json").read_text())
    assert failed["status"] == "failed" and "batch_size=4096" in failed["error"]
    assert not (sweep / "1" / "checkpoint.pt").exists()
