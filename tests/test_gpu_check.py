"""benchmarks/gpu_check.sh cannot rot: its dry run takes every step of the GPU check on the CPU at tiny sizes and
fills every part of results.md."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Every test here runs the command line or trains: the full suite only (pytest -m 'not slow' skips them).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def test_gpu_check_dry_run_takes_every_step_and_sums_them_up(tmp_path):
    out = tmp_path / "check"
    env = {**os.environ, "PYTHON": sys.executable}
    proc = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    steps = {r["step"]: r["status"] for r in _rows(out / "steps.tsv", "\t")}
    assert steps == dict.fromkeys(["env", "tests", "bench", "variants", "studies", "sweep"], "ok"), steps
    bench = _rows(out / "bench.csv")
    assert [r["model"] for r in bench] == ["dcgan"]
    assert all(float(r[k]) > 0 for r in bench for k in ("trainer_img_s", "bare_img_s", "peer_img_s", "a_over_b"))
    assert [r["variant"] for r in _rows(out / "variants.csv")] == ["channels_last"]  # its 32 row is bench's
    (study,) = _rows(out / "study_time.csv")
    assert study["study"] == "s5_zappos" and float(study["hours_one_at_a_time"]) > 0
    sweep = _rows(out / "sweep.csv")
    assert [(r["launcher"], r["model"]) for r in sweep] == [
        (launcher, model)
        for launcher in ("one_at_a_time", "joblib_shared")
        for model in ("vae", "gan", "wgan", "dcgan")
    ]
    assert {(r["status"], r["device"]) for r in sweep} == {("completed", "cpu")}
    assert not list(out.rglob("checkpoint.pt"))  # the check brings back figures, not weights
    results = (out / "results.md").read_text()
    assert results.strip() in proc.stdout  # printed at the end as well
    for heading in (
        "## Steps",
        "## Tests",
        "## Training throughput",
        "## Speed options",
        "## Expected wall time",
        "## Four runs sharing the CPU (dry run)",
    ):
        assert heading in results
    assert "2 passed, 0 failed, 0 errors, 0 skipped of 2" in results  # two cuda tests, run on the CPU
    assert "x the throughput" in results
    options = results.split("## Speed options", 1)[1].split("## ", 1)[0]
    assert [line.split(" | ")[2] for line in options.splitlines() if line.startswith("| mnist | dcgan")] == [
        "32",
        "channels_last",
    ]  # bench's float32 row leads the variants, as in the real check
