"""The GPU path: data on the device, the speed options, CPU/GPU agreement, checkpoints across devices, stops.

Every test here is marked `cuda`: skipped where PyTorch sees no GPU, run automatically where it sees one
(benchmarks/gpu_check.sh runs them with `-m cuda`). GENSWEEP_TEST_GPU=cpu runs them on the CPU, where they
check only that their own code works (the gpu_check dry run does that). The two-epoch run of every model on
every device is in test_models.py.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch
from conftest import GPU, SMOKE, make_cfg, run_cli, train_run
from test_stops import FAST, _wait_until

from gensweep.config import validate
from gensweep.files import read_csv
from gensweep.models.build import build_model
from gensweep.train.loop import Trainer
from gensweep.train.stops import RunDiverged

pytestmark = pytest.mark.cuda

QUICK = [*SMOKE, "metrics.backbone=none"]
# CPU and GPU runs of the deterministic CAE after one epoch: the GPU's TF32 convolutions and other summation
# orders move a loss by about 1e-4 relative per step; 2% is far below what a wrong device placement does.
AGREE_REL = 0.02


@pytest.mark.slow
def test_dataset_sits_on_the_device_and_batches_never_leave_it(tmp_path, monkeypatch):
    seen = {"trainer": [], "batches": set()}
    fit = Trainer.fit

    def spy_fit(self, *args, **kwargs):
        seen["trainer"].append(self)
        to_input = self.model.to_input

        def spy(images):
            seen["batches"].add(images.device.type)
            return to_input(images)

        self.model.to_input = spy
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", spy_fit)
    train_run(tmp_path, ["model=gan", "n_epochs=1", f"device={GPU}", *QUICK])
    (trainer,) = seen["trainer"]
    assert trainer.train_data.images.device.type == GPU and trainer.val_data.images.device.type == GPU
    assert seen["batches"] == {GPU}  # every batch, training and validation, was already on the device


@pytest.mark.parametrize("option", ["bf16", "16-mixed", "channels_last", "compile"])
def test_speed_options_train_a_few_steps(option):
    if option == "compile" and not (
        shutil.which("cc") and Path(sysconfig.get_paths()["include"], "Python.h").is_file()
    ):
        pytest.skip("torch.compile builds C code: needs a C compiler (cc) and Python's headers (Python.h)")
    name = "gan" if option == "compile" else "dcgan"  # compile: the MLP compiles in seconds
    cfg = make_cfg([f"model={name}", f"device={GPU}"])
    torch.manual_seed(0)
    model = build_model(cfg, validate(cfg), (1, 16, 16), 10)
    applied = model.accelerate(
        precision=option if option in ("bf16", "16-mixed") else "32",
        channels_last=option == "channels_last",
        compile=option == "compile",
    )
    assert applied
    x = model.to_input(torch.randint(0, 256, (32, 1, 16, 16), dtype=torch.uint8))
    y = torch.zeros(32, dtype=torch.long)
    for _ in range(4):
        out = model.train_step(x, y)
    assert all(math.isfinite(v.item()) for v in out.values()), out
    if option == "16-mixed":  # the loss scale travels with the checkpoint
        fresh = build_model(cfg, validate(cfg), (1, 16, 16), 10)
        fresh.accelerate(precision="16-mixed")
        fresh.load_training_state(model.training_state())
        assert fresh.scaler.get_scale() == model.scaler.get_scale()


@pytest.mark.slow
def test_gpu_and_cpu_runs_agree_after_one_epoch(tmp_path):
    args = ["model=cae", "n_epochs=1", *QUICK]
    rows = {}
    for device in ("cpu", GPU):
        train_run(tmp_path / device, [*args, f"device={device}"])
        rows[device] = read_csv(tmp_path / device / "metrics.csv")[0]
    for key in ("train_loss", "val_loss"):
        a, b = float(rows["cpu"][key]), float(rows[GPU][key])
        assert abs(a - b) <= AGREE_REL * abs(a), (key, a, b)


@pytest.mark.slow
@pytest.mark.parametrize("first, then", [(GPU, "cpu"), ("cpu", GPU)])
def test_a_checkpoint_resumes_on_the_other_device(tmp_path, first, then):
    args = ["model=cae", *QUICK]
    train_run(tmp_path, [*args, "n_epochs=1", f"device={first}"])
    summary = train_run(tmp_path, [*args, "n_epochs=2", f"device={then}"], resume=True)
    assert summary["status"] == "completed" and summary["device"].startswith(then)
    rows = read_csv(tmp_path / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(math.isfinite(float(r[k])) for r in rows for k in ("train_loss", "val_loss"))


HELD_AT_STEP = """
import os, time
from pathlib import Path
from gensweep.models.vae import VAE
step, calls = VAE.train_step, []
marker = Path(os.environ["GENSWEEP_TEST_MARKER"])
def held_step(self, *args):
    calls.append(1)
    if len(calls) == 10:  # in epoch 3 of 4 steps each: wait there until the test has sent its signal
        marker.write_text("held")
        while not marker.with_suffix(".go").exists():
            time.sleep(0.01)
    return step(self, *args)
VAE.train_step = held_step
from gensweep.cli import main
main()
"""


@pytest.mark.slow
def test_sigterm_checkpoints_a_gpu_run_and_it_resumes(tmp_path):
    """The run is held inside a step (a GPU run of this size would otherwise end before a signal could reach
    it), signalled there, then let go: it checkpoints mid-epoch and exits; resumed, it matches a run that was
    never stopped."""
    args = ["n_epochs=6", f"device={GPU}", *FAST, "batch_size=32"]  # 4 steps an epoch: call 10 is mid-epoch 3
    (tmp_path / "ref").mkdir()
    reference = run_cli(args, cwd=tmp_path / "ref")
    assert reference.returncode == 0, reference.stderr
    (ref_run,) = list((tmp_path / "ref" / "outputs" / "runs").glob("*/*"))
    marker = tmp_path / "held"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GENSWEEP_TEST_MARKER": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD_AT_STEP, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_until(marker.exists, proc, "the held step")
    proc.send_signal(signal.SIGTERM)
    marker.with_suffix(".go").write_text("go")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err, err
    (run,) = list((tmp_path / "outputs" / "runs").glob("*/*"))
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    assert torch.load(run / "checkpoint.pt", weights_only=False)["partial"]["batches_done"] == 2  # mid-epoch 3
    resumed = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    got, want = read_csv(run / "metrics.csv"), read_csv(ref_run / "metrics.csv")
    assert [r["epoch"] for r in got] == [str(e) for e in range(1, 7)]
    for a, b in zip(got, want):  # the same run as never stopping, up to the GPU's summation order
        assert float(a["val_loss"]) == pytest.approx(float(b["val_loss"]), rel=1e-3)


@pytest.mark.slow
def test_a_nan_is_caught_within_20_steps(tmp_path):
    # 1,024 images at batch 16: 64 steps an epoch, so only the every-20-steps check can stop it in time
    with pytest.raises(RunDiverged) as stop:
        train_run(
            tmp_path,
            [
                "lr=1e6",
                "n_epochs=2",
                f"device={GPU}",
                "dataset.subset=1024",
                "batch_size=16",
                "metrics.backbone=none",
                "trainer.progress=false",
            ],
        )
    assert stop.value.step <= 20, stop.value
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "diverged"


@pytest.mark.slow
def test_a_gpu_index_past_the_last_is_one_line(tmp_path):
    count = torch.cuda.device_count()
    proc = run_cli([f"device=cuda:{count}", *QUICK], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"device=cuda:{count} is unavailable" in proc.stderr


@pytest.mark.slow
def test_a_joblib_sweep_shares_the_gpus(tmp_path):
    """Four jobs, two per GPU at once: job i trains on GPU i mod count."""
    proc = run_cli(
        [
            "model=vae,gan,cae,wgan",
            "n_epochs=1",
            "hydra/launcher=joblib",
            "jobs_per_gpu=2",
            f"device={'auto' if GPU == 'cuda' else 'cpu'}",
            *QUICK,
            "-m",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (sweep,) = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    count = torch.cuda.device_count()
    for job in range(4):
        summary = json.loads((sweep / str(job) / "summary.json").read_text())
        assert summary["status"] == "completed"
        assert summary["device"] == (f"cuda:{job % count}" if GPU == "cuda" else "cpu")
