"""The configs a user edits live in the top-level conf/, and ship inside the package: an editable install reads
conf/ itself, a plain `pip install .` runs from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import gensweep.conf
import pytest

# Every test here runs the command line or trains: the full suite only (pytest -m 'not slow' skips them).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_editable_install_reads_the_top_level_conf_folder():
    assert [Path(p).resolve() for p in gensweep.conf.__path__] == [ROOT / "conf"]
    assert not (ROOT / "src" / "gensweep" / "conf").exists()


def test_plain_install_runs_from_any_folder(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    for folder in ("src", "conf"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    site = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr
    # the copy, not the checkout: no conf/ folder of the repository is reachable from it
    assert (site / "gensweep" / "conf" / "model" / "wgan.yaml").is_file()
    work = tmp_path / "elsewhere"
    work.mkdir()
    # the copy first; a PYTHONPATH already set stays behind it (where the dependencies may live)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import gensweep.conf; print(gensweep.conf.__path__[0])"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()).resolve() == (site / "gensweep" / "conf").resolve(), where.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "gensweep", "model=gan", "debug=smoke", "metrics.backbone=none"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (run,) = list((work / "outputs" / "runs").glob("*/*"))
    assert (run / "metrics.csv").is_file() and "gensweep.models.gan.GAN" in (run / ".hydra" / "config.yaml").read_text()
    helped = subprocess.run(
        [sys.executable, "-m", "gensweep", "--help"], cwd=work, env=env, capture_output=True, text=True
    )
    assert "model: cae, cdcgan, dcgan, gan, vae, wgan, wgan_gp" in helped.stdout


def test_a_torchvision_built_for_another_torch_is_one_line_before_anything_is_written(tmp_path):
    """A torchvision that fails at import as one built for another torch does ("operator torchvision::nms does
    not exist"), put first on the path: the run refuses in one line naming the reinstall, and writes nothing."""
    fake = tmp_path / "fake" / "torchvision"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
    proc = subprocess.run(
        [sys.executable, "-m", "gensweep", "n_epochs=1"], cwd=work, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("gensweep: error: torchvision does not load beside torch ")
    assert "(RuntimeError: operator torchvision::nms does not exist)" in proc.stderr
    assert "pip install --force-reinstall torch torchvision" in proc.stderr
    assert list(work.iterdir()) == []
