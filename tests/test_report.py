"""The sweep report lists every run, failures included, and overlays the runs' curves."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from conftest import run_cli
from PIL import Image

from gensweep.report import runs as report_runs


@pytest.mark.slow
def test_report_after_a_sweep_with_a_failing_run(tmp_path):
    proc = run_cli(
        [
            "model=gan",
            "z_dim=4,8",
            "batch_size=32,4096",
            "n_epochs=2",
            "dataset.subset=64",
            "trainer.progress=false",
            "-m",
        ],
        cwd=tmp_path,
    )
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
        runs.append(
            report_runs.Run(tmp_path / str(i), {"model": model, "z_dim": z}, {"model": model, "curves": curves}, rows)
        )
    keys = report_runs.swept_keys(runs)
    assert keys == ["model", "z_dim"]
    figures = []
    monkeypatch.setattr(sweep.plt, "close", figures.append)
    written = sweep.plot_comparisons(runs, keys, tmp_path)
    assert [p.name for p in written] == ["vae_train_loss.png", "gan_train_loss.png"]
    titles = [f.axes[0].get_title() for f in figures]
    assert titles == ["vae: loss for z_dim", "gan: loss"]
    lines = [line for f in figures for line in f.axes[0].get_lines()]
    assert len(lines) == 6 and all(line.get_marker() == "o" for line in lines)
    assert [line.get_label() for line in figures[0].axes[0].get_lines()][:2] == [
        "z_dim=8 train_loss",
        "z_dim=8 val_loss",
    ]


def _fake_runs(tmp_path, finals):
    """Runs with given overrides and final values, as collect() reads them (no training)."""

    curves = [["loss", ["val_loss"]]]
    runs = []
    for i, (overrides, final) in enumerate(finals):
        rows = [{"epoch": "1", "val_loss": str(final.get("val_loss", 1.0))}]
        summary = {
            "status": "completed",
            "model": overrides["model"],
            "dataset": "digits",
            "curves": curves,
            "final": {"epoch": 1, **final},
        }
        runs.append(report_runs.Run(tmp_path / str(i), dict(overrides), summary, rows))
    return runs


def test_seeds_are_repetitions_summarised_and_effects_name_the_best_value(tmp_path, monkeypatch):
    from gensweep.report import effects

    finals = []
    for model, base in (("vae", 30.0), ("gan", 50.0)):
        for lr, shift in (("1e-4", 10.0), ("1e-3", 0.0), ("1e-2", 20.0)):
            for seed, noise in (("0", -1.0), ("1", 1.0)):
                finals.append(
                    (
                        {"model": model, "lr": lr, "seed": seed},
                        {"fid": base + shift + noise, "classes_covered": 10 - int(shift // 10)},
                    )
                )
    runs = _fake_runs(tmp_path, finals)
    keys = report_runs.swept_keys(runs)
    assert effects.factors(keys) == ["lr", "model"]  # the seed repeats a setting
    rows = {(r["model"], r["lr"]): r for r in effects.summary_rows(runs, keys)}
    assert len(rows) == 6 and rows[("vae", "1e-3")]["runs"] == "2"
    assert float(rows[("vae", "1e-3")]["fid_mean"]) == 30.0
    assert float(rows[("vae", "1e-3")]["fid_std"]) == pytest.approx(2**0.5, rel=1e-3)  # sample std of 29, 31
    assert float(rows[("gan", "1e-2")]["fid_mean"]) == 70.0

    figures = []
    monkeypatch.setattr(effects.plt, "close", figures.append)
    found = {e.key: e for e in effects.plot_effects(runs, keys, tmp_path)}
    assert set(found) == {"lr", "model"} and (tmp_path / "effect_lr.png").is_file()
    fid_line = next(f for f in found["lr"].findings if f.startswith("FID"))
    assert "vae: lr=1e-3 (30 ± 1.41, 2 runs)" in fid_line and "gan: lr=1e-3 (50" in fid_line
    classes_line = next(f for f in found["lr"].findings if f.startswith("classes covered, highest"))
    assert "vae: lr=1e-3 (10" in classes_line
    lr_axes = figures[0].axes
    assert lr_axes[0].get_xscale() == "log" and lr_axes[0].get_xlabel() == "lr"
    assert "model=vae" in next(f for f in found["model"].findings if f.startswith("FID"))
    # pooled over their lrs, both models cover 9 classes on average: a tie, named as one
    classes_by_model = next(f for f in found["model"].findings if f.startswith("classes"))
    assert "model=gan = vae" in classes_by_model and "(a tie)" in classes_by_model


def test_curves_of_a_setting_with_seeds_are_one_mean_line_with_a_band(tmp_path, monkeypatch):
    from gensweep.report import sweep

    runs = _fake_runs(tmp_path, [({"model": "vae", "seed": s}, {"val_loss": v}) for s, v in (("0", 1.0), ("1", 3.0))])
    figures = []
    monkeypatch.setattr(sweep.plt, "close", figures.append)
    sweep.plot_comparisons(runs, report_runs.swept_keys(runs), tmp_path)
    (ax,) = figures[0].axes
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == [2.0] and line.get_label() == "val_loss (2 seeds)"
    (band,) = ax.collections  # mean ± std: 2 ± 1.41
    assert band.get_paths()[0].vertices[:, 1].min() == pytest.approx(2 - 2**0.5)


class _Page(HTMLParser):
    """The links, images and rows of the runs table of a report's index.html."""

    def __init__(self):
        super().__init__()
        self.links, self.rows, self.table = [], 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = attrs.get("id")
        if tag == "tr" and self.table == "runs" and attrs.get("class") is not None:
            self.rows += 1
        if tag in ("a", "img", "script", "link") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))


def _check_page(report):
    page = _Page()
    page.feed((report / "index.html").read_text())
    assert page.links and not [u for u in page.links if "://" in u or u.startswith("//")]  # nothing from a network
    missing = [u for u in page.links if not (report / unquote(u)).exists()]
    assert not missing, missing
    return page


@pytest.mark.slow
def test_index_html_lists_every_run_and_every_link_exists(tmp_path):
    proc = run_cli(
        [
            "model=vae,gan",
            "seed=0,1",
            "n_epochs=1",
            "dataset.subset=64",
            "batch_size=32",
            "metrics.classifier_steps=50",
            "metrics.probe.steps=20",
            "trainer.progress=false",
            "-m",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    report = sweep / "report"
    page = _check_page(report)
    # the probe beside FID for every model, the VAE as much as the GAN: in the runs, per setting and in the effects
    with open(report / "summary.csv", newline="") as f:
        for row in csv.DictReader(f):
            assert all(float(row[f"{c}_mean"]) == float(row[f"{c}_mean"]) for c in ("fid", "probe_emd", "probe_jsd")), (
                row
            )
    with open(report / "runs.csv", newline="") as f:
        assert all(r["probe_emd"] and r["probe_jsd"] for r in csv.DictReader(f))
    assert "probe EMD" in (report / "README.md").read_text()
    assert page.rows == 4
    for job in range(4):  # each run's folder and last sample grid are linked
        assert f"../{job}/" in page.links and f"../{job}/samples/epoch_001.png" in page.links
    with open(report / "summary.csv", newline="") as f:
        assert [(r["model"], r["runs"]) for r in csv.DictReader(f)] == [("vae", "2"), ("gan", "2")]
    assert "effect_model.png" in page.links

    # One report over two sweeps (the same study twice, say): every run, keyed by its sweep.
    shutil.copytree(sweep, tmp_path / "again" / sweep.name)
    out = tmp_path / "both"
    proc = subprocess.run(
        [sys.executable, "-m", "gensweep.report", str(sweep), str(tmp_path / "again" / sweep.name), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and len({r["sweep"] for r in rows}) == 2
    assert {r["job"].split("/")[-1] for r in rows} == {"0", "1", "2", "3"}
    assert (out / "effect_sweep.png").is_file() and _check_page(out).rows == 8


@pytest.mark.slow
def test_a_live_report_shows_the_runs_so_far_and_touches_none_of_them(tmp_path):
    """A sweep still running: its report lists the running job with its epochs so far. Reading the sweep
    changes no byte outside report/ (checked on a copy frozen mid-run, so that the run's own writes do not
    count)."""
    from test_stops import _start, _wait_until

    proc = _start(
        [
            "model=vae,gan",
            "n_epochs=200",
            "dataset.subset=64",
            "batch_size=32",
            "metrics.backbone=none",
            "trainer.progress=false",
            "-m",
        ],
        tmp_path,
    )
    metrics = tmp_path / "outputs" / "multirun"
    _wait_until(
        lambda: any(len(p.read_text().splitlines()) > 2 for p in metrics.glob("*/*/0/metrics.csv")),
        proc,
        "two epochs of job 0",
    )
    (sweep,) = list(metrics.glob("*/*"))
    live = subprocess.run([sys.executable, "-m", "gensweep.report", str(sweep)], capture_output=True, text=True)
    proc.terminate()
    proc.communicate(timeout=60)
    assert live.returncode == 0, live.stderr
    with open(sweep / "report" / "runs.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))  # job 1 has not started: the basic launcher runs one job at a time
    assert row["status"] == "running" and int(row["epochs"]) >= 2 and float(row["val_loss"]) > 0  # so far
    assert "model" in row and "n_epochs" not in row  # the swept key, from multirun.yaml, not every override
    assert "1 runs, 0 completed, 1 running, 0 not completed" in (sweep / "report" / "README.md").read_text()
    assert (sweep / "report" / "vae_train_loss.png").is_file()  # the curves so far

    frozen = tmp_path / "frozen"
    shutil.copytree(sweep, frozen, ignore=shutil.ignore_patterns("report"))
    before = {p: p.read_bytes() for p in frozen.rglob("*") if p.is_file()}
    assert subprocess.run([sys.executable, "-m", "gensweep.report", str(frozen)], capture_output=True).returncode == 0
    assert {p: p.read_bytes() for p in frozen.rglob("*") if p.is_file() and "report" not in p.parts} == before
    # a grid cut off mid-write (by an older version, or a full disk) is left out of the picture, not fatal
    (frozen / "0" / "samples" / "epoch_999.png").write_bytes(b"")
    cut = subprocess.run([sys.executable, "-m", "gensweep.report", str(frozen)], capture_output=True, text=True)
    assert cut.returncode == 0 and "Traceback" not in cut.stderr, cut.stderr


def test_a_key_the_command_fixes_is_not_swept_even_where_the_experiment_lists_it(tmp_path):
    """`experiment=s1_depth dataset=digits seed=0,1`: the command's one dataset replaces the experiment's list (as
    in Hydra's sweeper), so the report compares the presets and seeds, not a dataset that never changes; nor the
    loggers of `logger=[csv,mlflow]`, one list."""
    import yaml

    record = {
        "hydra": {
            # a list in brackets is one value, not a sweep
            "overrides": {
                "task": ["experiment=s1_depth", "dataset=digits", "seed=0,1", "+tag=a,b", "logger=[csv,mlflow]"]
            },
            "sweeper": {"params": {"model_preset": "vae_l2,gan_l3", "dataset": "mnist,cifar10", "z_dim": "50,100"}},
        }
    }
    (tmp_path / "multirun.yaml").write_text(yaml.safe_dump(record))
    assert report_runs.declared_keys(tmp_path) == ("seed", "tag", "model_preset", "z_dim")
