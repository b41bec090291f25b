"""The sweep report lists every run, failures included, and overlays the runs' curves."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

from PIL import Image

from conftest import run_cli


def test_report_after_a_sweep_with_a_failing_run(tmp_path):
    proc = run_cli(["model=gan", "z_dim=4,8", "batch_size=32,4096", "n_epochs=2", "dataset.subset=64",
                    "trainer.progress=false", "-m"], cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "2 run(s) of the sweep failed" in proc.stderr  # the basic launcher: the sweep went on
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    report = sweep / "report"
    with open(report / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["job"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["status"] for r in rows] == ["completed", "failed", "completed", "failed"]
    assert {(r["z_dim"], r["batch_size"]) for r in rows} == {("4", "32"), ("4", "4096"), ("8", "32"), ("8", "4096")}
    assert all(0 <= float(r["jsd"]) <= 0.7 for r in rows if r["status"] == "completed")
    assert "larger than the training set" in rows[1]["error"]
    readme = (report / "README.md").read_text()
    assert "4 runs, 2 completed, 2 not completed" in readme and readme.count("| failed |") == 2
    jsd_plot = Image.open(report / "gan_jsd.png")
    assert jsd_plot.size[0] > 400
    assert "gan_jsd.png" in readme and "samples.png" in readme

    # Rewritten later from the folder alone, after a job's summary changed: the report follows the files.
    summary = json.loads((sweep / "2" / "summary.json").read_text())
    (sweep / "2" / "summary.json").write_text(json.dumps({**summary, "status": "diverged"}))
    proc = subprocess.run([sys.executable, "-m", "gensweep.report", str(sweep)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with open(report / "runs.csv", newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["completed", "failed", "diverged", "failed"]

    # A single job's folder is not a sweep: refused in one line, nothing written into it.
    job = sweep / "0"
    before = sorted(p.name for p in job.iterdir())
    proc = subprocess.run([sys.executable, "-m", "gensweep.report", str(job)], capture_output=True, text=True)
    assert proc.returncode == 1 and "is a single run's folder, not a sweep" in proc.stderr
    assert sorted(p.name for p in job.iterdir()) == before


def test_comparison_plots_mark_single_points_and_title_only_what_varies(tmp_path, monkeypatch):
    """A sweep of 1-epoch runs: every line has markers (one point draws no line); a model's plot names only the
    keys that vary among that model's runs, not `model` itself."""
    from gensweep.report import sweep

    curves = [["loss", ["train_loss", "val_loss"]]]
    runs = []
    for i, (model, z) in enumerate((("vae", "8"), ("vae", "16"), ("gan", "8"))):
        rows = [{"epoch": "1", "train_loss": str(1.0 + i), "val_loss": str(2.0 + i)}]
        runs.append(sweep.Run(tmp_path / str(i), {"model": model, "z_dim": z}, {"model": model, "curves": curves}, rows))
    keys = sweep.swept_keys(runs)
    assert keys == ["model", "z_dim"]
    figures = []
    monkeypatch.setattr(sweep.plt, "close", figures.append)
    written = sweep.plot_comparisons(runs, keys, tmp_path)
    assert [p.name for p in written] == ["vae_train_loss.png", "gan_train_loss.png"]
    titles = [f.axes[0].get_title() for f in figures]
    assert titles == ["vae: loss for z_dim", "gan: loss"]
    lines = [line for f in figures for line in f.axes[0].get_lines()]
    assert len(lines) == 6 and all(line.get_marker() == "o" for line in lines)
    assert [line.get_label() for line in figures[0].axes[0].get_lines()][:2] == ["z_dim=8 train_loss", "z_dim=8 val_loss"]
