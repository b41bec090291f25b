"""The five studies as sweeps: each study's smoke script end to end (what CI runs), the model presets' settings, and
the sweeps on the joblib launcher, on submitit's local executor with a job preempted and requeued, and on Optuna."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import yaml
from conftest import make_cfg, run_cli

from gensweep.config import validate
from gensweep.files import read_csv
from gensweep.models.build import build_model

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("submitit_launcher", "optuna_sweeper", "joblib_launcher")
STUDIES = ("s1_depth", "s1_latent", "s2_latent_width", "s3_svhn", "s4_conditional", "s5_zappos")
EXPERIMENTS = ROOT / "conf" / "experiment"
TINY = [
    "dataset.subset=64",
    "batch_size=32",
    "trainer.progress=false",
    "metrics.backbone=none",
    "trainer.eval_batches=1",
]


def _sweep_params(study: str) -> dict[str, list[str]]:
    return {
        k: str(v).split(",")
        for k, v in yaml.safe_load((EXPERIMENTS / f"{study}.yaml").read_text())["hydra"]["sweeper"]["params"].items()
    }


def _run_study(study: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    env = {**os.environ, "PYTHON": sys.executable, "GENSWEEP_STUDIES": str(tmp_path / "studies")}
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "study.sh"), study, "--smoke", *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    reports = [line.split("report: ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("report: ")]
    assert proc.returncode == 0 and reports, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, tmp_path / reports[0]


# S1's latent grid and S2's grid on digits are runs of the same code at different sizes: their corners (every
# model at the smallest and the largest z_dim, and width) run end to end here, 6 runs instead of 9 and 12
# instead of 48.
CORNERS = {
    "s1_latent": {"z_dim": ["32", "100"]},
    "s2_latent_width": {"z_dim": ["5", "100"], "width": ["32", "256"]},
}


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_study_smoke_runs_the_whole_sweep_and_reports(study, tmp_path):
    # the bigger grids two jobs at a time (joblib gives each one core)
    extra = ["hydra/launcher=joblib"] if study in ("s1_depth", "s1_latent", "s2_latent_width") else []
    params = _sweep_params(study)
    params.pop("dataset", None)  # the smoke replaces every dataset by the bundled digits
    for key, values in CORNERS.get(study, {}).items():
        assert set(values) <= set(params[key]) and values != params[key]
        params[key] = values
        extra.append(f"hydra.sweeper.params.{key}='{','.join(values)}'")  # quoted: one value
    proc, report = _run_study(study, tmp_path, *extra)
    runs = read_csv(report.parent / "runs.csv")
    assert len(runs) == math.prod(len(v) for v in params.values())
    assert {r["status"] for r in runs} == {"completed"}
    for key, values in params.items():  # each swept value is a run of its own, named in the table
        assert sorted({r[key] for r in runs}) == sorted(values)
    assert all(float(r["fid"]) > 0 for r in runs)
    text = report.read_text()
    assert "samples.png" in text and "interpolations.png" in text
    assert f"study {study} (smoke): sweep folder" in proc.stdout


def test_model_presets_build_the_studies_networks():
    """Each study's preset builds the networks the study asks for, counted on the built model: the layers of
    the generator or decoder (conv stages, or MLP hidden layers plus the output layer), the latent size it
    reads, and the optimizer of the model's recipe at the study's rate."""
    cases = {
        ("s1_depth", "vae_l2"): ("decoder", nn.ConvTranspose2d, 2, 50, torch.optim.Adam),
        ("s1_depth", "wgan_l4"): ("generator", nn.Linear, 5, 50, torch.optim.RMSprop),
        ("s1_latent", "gan_l5"): ("generator", nn.Linear, 6, 100, torch.optim.Adam),
    }
    for (study, preset), (net, layer, count, z_dim, optimizer) in cases.items():
        cfg = make_cfg([f"experiment={study}", f"model_preset={preset}", "device=cpu"])
        model = build_model(cfg, validate(cfg), (1, 28, 28), 10)
        layers = [m for m in model.nets[net].modules() if isinstance(m, layer)]
        first = next(m for m in model.nets[net].modules() if isinstance(m, nn.Linear))
        assert (len(layers), first.in_features) == (count, z_dim), (study, preset)
        assert {type(o) for o in model.optims.values()} == {optimizer}
        assert cfg.n_epochs == 50
    cfg = make_cfg(["experiment=s4_conditional", "model=cdcgan", "dataset=celeba_smiling", "device=cpu"])
    model = build_model(cfg, validate(cfg), (3, 64, 64), 2)
    assert [g["lr"] for o in model.optims.values() for g in o.param_groups] == [2e-4, 2e-4]
    assert model.nets["generator"].project[0].in_features == model.z_dim + 2  # z beside a one-hot Smiling label
    assert (cfg.n_epochs, cfg.dataset.name, cfg.dataset.label_attribute) == (200, "celeba", "Smiling")


def test_s3_gan_generator_is_the_vae_decoder():
    shapes = {}
    for preset, net in (("vae_conv", "decoder"), ("gan_conv", "generator")):
        cfg = make_cfg(["experiment=s3_svhn", f"model_preset={preset}", "device=cpu"])
        model = build_model(cfg, validate(cfg), (3, 32, 32), 10)
        shapes[preset] = [tuple(p.shape) for p in model.nets[net].parameters()]
    assert shapes["vae_conv"] == shapes["gan_conv"]


@pytest.mark.slow
def test_submitit_job_preempted_is_requeued_and_resumes(tmp_path):
    sweep = tmp_path / "sweep"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "gensweep",
        "model=vae",
        "n_epochs=4",
        "dataset.subset=384",
        "batch_size=16",
        "trainer.progress=false",
        "metrics.backbone=none",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
        f"hydra.sweep.dir={sweep}",
        "-m",
    ]
    sweeper = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    metrics = sweep / "0" / "metrics.csv"
    deadline = time.monotonic() + 180
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 3):  # two epochs done
        assert time.monotonic() < deadline and sweeper.poll() is None, "the job never reached epoch 2"
        time.sleep(0.1)
    jobs = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_job_of(p, sweep)]
    assert len(jobs) == 1
    os.kill(int(jobs[0].name), signal.SIGUSR2)  # what SLURM sends on preemption / before the time limit
    out, _ = sweeper.communicate(timeout=300)
    assert sweeper.returncode == 0, out
    log = (sweep / "0" / "gensweep.log").read_text()
    assert "a requeued job, continuing from it" in log and "resumed from" in log
    assert [r["epoch"] for r in read_csv(metrics)] == [str(e) for e in range(1, 5)]
    assert read_csv(sweep / "report" / "runs.csv")[0]["status"] == "completed"


def _is_job_of(proc_dir: Path, sweep: Path) -> bool:
    try:
        cmdline = (proc_dir / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"submitit.core._submit" in cmdline and any(str(sweep).encode() in part for part in cmdline)


@pytest.mark.slow
def test_optuna_sweep_searches_and_reports_its_trials(tmp_path):
    proc = run_cli(
        [
            "model=vae",
            *TINY[:-2],
            "metrics.n_samples=32",
            "metrics.classifier_steps=100",
            "n_epochs=1",
            "hparams_search=optuna",
            "hydra.sweeper.n_trials=3",
            "hydra.sweeper.sampler.seed=0",
            f"hydra.sweep.dir={tmp_path / 's'}",
            "-m",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    runs = read_csv(tmp_path / "s" / "report" / "runs.csv")
    assert len(runs) == 3 and {"lr", "z_dim", "width"} <= set(runs[0])
    best = yaml.safe_load((tmp_path / "s" / "optimization_results.yaml").read_text())
    assert best["best_value"] == pytest.approx(min(float(r["fid"]) for r in runs), rel=1e-3)
    assert "Optuna's best trial of 3" in (tmp_path / "s" / "report" / "README.md").read_text()


@pytest.mark.parametrize(
    "preset,plugin",
    [
        ("hydra/launcher=joblib", "hydra/launcher=joblib needs its Hydra plugin (hydra-joblib-launcher)"),
        ("hydra/launcher=slurm", "needs its Hydra plugin (hydra-submitit-launcher)"),
        ("hparams_search=optuna", "hydra/sweeper=optuna needs its Hydra plugin (hydra-optuna-sweeper)"),
    ],
)
def test_missing_plugin_names_the_extra(tmp_path, preset, plugin):
    """With the plugins hidden from import: the joblib preset composes and is refused by gensweep's start
    checks; the slurm and Optuna presets name the plugin's own config and are refused as Hydra composes."""
    hide = "; ".join(f"sys.modules['hydra_plugins.hydra_{p}'] = None" for p in PLUGINS)
    code = f"import sys; {hide}; sys.argv = ['gensweep', '{preset}', 'model=vae,gan', '-m']; "
    proc = subprocess.run(
        [sys.executable, "-c", code + "from gensweep.cli import main; main()"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert plugin in proc.stderr and proc.stderr.rstrip().endswith("pip install 'gensweep[cluster]'")
    assert list(tmp_path.iterdir()) == []
