"""resume=... picks and checks its run before anything is written: a refusal leaves every byte as it was;
scoring a run whose record does not match its checkpoint is one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMOKE, run_cli, tree_hash

from gensweep.files import read_csv

# Every test here runs the command line or trains: the full suite only (pytest -m 'not slow' skips them).
pytestmark = pytest.mark.slow

QUICK = [*SMOKE, "metrics.backbone=none"]


def _runs(cwd: Path) -> list[Path]:
    return sorted((cwd / "outputs" / "runs").glob("*/*"))


def test_refused_resume_changes_no_byte_and_names_what_it_found(tmp_path):
    first = run_cli(["model=gan", "n_epochs=1", *QUICK], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (run,) = _runs(tmp_path)
    before = tree_hash(tmp_path)
    for args, expected in (
        (["model=wgan", "resume=true"], "other settings: dataset=digits image_shape=[1, 16, 16] model=gan"),
        (["model=gan", "z_dim=8", "resume=true"], "no run under outputs/runs/ fits model=gan dataset=digits z_dim=8"),
    ):
        proc = run_cli([*args, "n_epochs=2", *QUICK], cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("gensweep: error: ") and proc.stderr.count("\n") == 1, proc.stderr
        assert expected in proc.stderr
        assert tree_hash(tmp_path) == before  # not even Hydra's record or the log
    # a finished run asked for no more epochs than it has: nothing to continue, and its summary stays
    for target in ("resume=true", f"resume={run}"):
        proc = run_cli(["model=gan", target, "n_epochs=1", *QUICK], cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "has already trained 1 epoch and n_epochs=1 asks for no more" in proc.stderr
        assert tree_hash(tmp_path) == before

    # The record no longer describes the checkpoint (as an older version's refused resume left it): scoring
    # the run says so in one line.
    config = run / ".hydra" / "config.yaml"
    config.write_text(config.read_text().replace("z_dim: 100", "z_dim: 7"))
    score = subprocess.run(
        [
            sys.executable,
            "-m",
            "gensweep.score",
            str(run),
            "metrics.backbone=classifier",
            "metrics.classifier_steps=20",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert score.returncode == 1 and "Traceback" not in score.stderr
    assert score.stderr.strip().count("\n") == 0
    assert "does not describe this checkpoint" in score.stderr and "z_dim=100" in score.stderr

    (run / "checkpoint.pt").write_bytes(b"truncated by a full disk")
    before = tree_hash(tmp_path)
    proc = run_cli(["model=gan", "n_epochs=2", "resume=true", *QUICK], cwd=tmp_path)
    assert proc.returncode == 2 and "unreadable checkpoint" in proc.stderr, proc.stderr
    assert tree_hash(tmp_path) == before


def test_resume_true_takes_the_newest_run_that_fits_and_keeps_its_record(tmp_path):
    """resume=true skips a newer run of another model; resume=<folder> continues a run of non-default settings
    without repeating them (the command's own keys win, a contradicting one is refused); each resume keeps
    the earlier .hydra record; the last line names the folder, the files to open and the numbers."""
    settings = ["model=gan", "z_dim=8", "width=16"]
    gan = run_cli([*settings, "n_epochs=1", *QUICK], cwd=tmp_path)
    assert gan.returncode == 0, gan.stderr
    (gan_run,) = _runs(tmp_path)
    vae = run_cli(["model=vae", "n_epochs=1", *QUICK], cwd=tmp_path)  # the newest run, of another model
    assert vae.returncode == 0, vae.stderr
    vae_run = next(r for r in _runs(tmp_path) if r != gan_run)
    vae_before = tree_hash(vae_run)
    record = (gan_run / ".hydra" / "config.yaml").read_text()

    again = run_cli([*settings, "n_epochs=2", "resume=true", *QUICK], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [r["epoch"] for r in read_csv(gan_run / "metrics.csv")] == ["1", "2"]
    assert "resumed from" in again.stdout
    last = again.stdout.strip().splitlines()[-1]
    assert f"results in {gan_run.resolve()}: open samples/epoch_002.png, curves.png, metrics.csv" in last
    assert (gan_run / "samples" / "epoch_002.png").is_file() and "at epoch 2: " in last and ", JSD " in last
    assert tree_hash(vae_run) == vae_before
    assert (gan_run / ".hydra.1" / "config.yaml").read_text() == record  # the first record, kept
    assert "n_epochs: 2" in (gan_run / ".hydra" / "config.yaml").read_text()

    third = run_cli(["n_epochs=3", f"resume={gan_run}", *QUICK], cwd=tmp_path)  # its own settings
    assert third.returncode == 0, third.stderr
    assert [r["epoch"] for r in read_csv(gan_run / "metrics.csv")] == ["1", "2", "3"]
    assert sorted(p.name for p in gan_run.glob(".hydra*")) == [".hydra", ".hydra.1", ".hydra.2"]
    assert len(_runs(tmp_path)) == 2
    # resume=true with the command's own settings, which leave out the run's debug=smoke (its 128-image subset):
    # said, not silent
    fourth = run_cli(
        [*settings, "n_epochs=4", "resume=true", "batch_size=32", "trainer.progress=false", "metrics.backbone=none"],
        cwd=tmp_path,
    )
    assert fourth.returncode == 0, fourth.stderr
    assert (
        f"gensweep: warning: resume=true continues {gan_run.relative_to(tmp_path)} without its own debug=smoke "
        "(now the default)"
    ) in fourth.stderr
    assert "1438 train" in fourth.stdout
    before = tree_hash(tmp_path)
    other = run_cli(["z_dim=9", "n_epochs=5", f"resume={gan_run}", *QUICK], cwd=tmp_path)
    assert other.returncode == 2 and "belongs to a different run" in other.stderr
    assert tree_hash(tmp_path) == before


def test_refused_sweep_resume_changes_no_byte_and_an_accepted_one_keeps_the_records(tmp_path):
    sweep_args = ["model=vae,gan", "n_epochs=1", *QUICK, "-m"]
    first = run_cli(sweep_args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    before = tree_hash(tmp_path)
    other = run_cli(["model=cae", "n_epochs=2", "resume=true", *QUICK, "-m"], cwd=tmp_path)
    assert other.returncode == 2 and other.stderr.count("\n") == 1, other.stderr
    assert "differs in model: repeat the sweep's own overrides" in other.stderr
    assert tree_hash(tmp_path) == before

    record = (sweep / "multirun.yaml").read_text()
    again = run_cli(["model=vae,gan", "-m", "n_epochs=2", *QUICK, "resume=true"], cwd=tmp_path)  # -m anywhere
    assert again.returncode == 0, again.stderr
    assert (sweep / "multirun.1.yaml").read_text() == record
    for job in ("0", "1"):
        assert [r["epoch"] for r in read_csv(sweep / job / "metrics.csv")] == ["1", "2"]
        assert (sweep / job / ".hydra.1" / "overrides.yaml").is_file()


def test_sweep_resume_continues_only_unfinished_jobs_and_refuses_a_finished_sweep(tmp_path):
    """A sweep with nothing left to train is refused unchanged; one with a job never started (though its other
    jobs completed and it has a report) starts that job; a job killed during its end-of-run work is finished
    on resume; a completed job is left as it was (only Hydra's records and log of the resume are added)."""
    sweep_args = ["model=vae,gan", "n_epochs=1", *QUICK, "-m"]
    assert run_cli(sweep_args, cwd=tmp_path).returncode == 0
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    before = tree_hash(tmp_path)
    done = run_cli([*sweep_args, "resume=true"], cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "has already trained n_epochs=1 or more; pass a larger n_epochs" in done.stderr
    assert tree_hash(tmp_path) == before

    shutil.rmtree(sweep / "1")  # as a sweep stopped before its last job leaves it, a report made meanwhile
    resumed = run_cli([*sweep_args, "resume=true"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert [r["epoch"] for r in read_csv(sweep / "1" / "metrics.csv")] == ["1"]

    killed = sweep / "1" / "summary.json"  # as a kill after the last checkpoint leaves it
    killed.write_text(killed.read_text().replace('"completed"', '"interrupted"'))
    (sweep / "1" / "curves.png").unlink()
    kept = {k: v for k, v in tree_hash(sweep / "0").items() if not k.startswith((".hydra", "gensweep.log"))}
    again = run_cli([*sweep_args, "resume=true"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "has already trained 1 epoch (n_epochs=1): kept as it is" in (sweep / "0" / "gensweep.log").read_text()
    assert {k: v for k, v in tree_hash(sweep / "0").items() if not k.startswith((".hydra", "gensweep.log"))} == kept
    assert '"completed"' in killed.read_text() and (sweep / "1" / "curves.png").is_file()
    assert [r["epoch"] for r in read_csv(sweep / "1" / "metrics.csv")] == ["1"]


def test_a_run_saved_by_another_version_is_refused_in_one_line_and_kept(tmp_path):
    """A run folder whose record names a group this version does not have (as one saved before `arm` became
    `model_preset`), or whose config lacks keys this version has, is not
    resumed or scored: one line, exit 2, and the folder and everything beside it stay as they were."""
    first = run_cli(["model_preset=gan_conv", "n_epochs=1", *QUICK], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (run,) = _runs(tmp_path)
    overrides, config = run / ".hydra" / "overrides.yaml", run / ".hydra" / "config.yaml"
    overrides.write_text(overrides.read_text().replace("model_preset=gan_conv", "arm=gan_conv"))
    config.write_text(config.read_text().replace("  sample_every: 1\n", ""))
    assert "arm=gan_conv" in overrides.read_text() and "sample_every" not in config.read_text()
    before = tree_hash(tmp_path)
    again = run_cli(["n_epochs=2", f"resume={run}", *QUICK], cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
    assert "the run's saved settings do not compose in this version of gensweep" in again.stderr
    assert again.stderr.rstrip().endswith("start a fresh run")
    score = subprocess.run(
        [sys.executable, "-m", "gensweep.score", str(run), "metrics.classifier_steps=20"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert score.returncode == 1 and score.stderr.count("\n") == 1, score.stderr
    assert "was saved by another version of gensweep (its config lacks trainer.sample_every)" in score.stderr
    assert tree_hash(tmp_path) == before
