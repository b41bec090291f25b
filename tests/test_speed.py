"""Speed options: mixed precision stays within the float32 run's tolerances, channels-last and compile change
no result and no checkpoint, and bad values are refused."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest
import torch
from conftest import SMOKE, make_cfg, train_run

from gensweep.config import validate
from gensweep.errors import ConfigError
from gensweep.files import read_csv
from gensweep.models.build import build_model


def _model(name: str, **options):
    cfg = make_cfg([f"model={name}", "device=cpu"])
    spec = validate(cfg)
    torch.manual_seed(0)
    model = build_model(cfg, spec, (1, 16, 16), 10)
    model.accelerate(**options)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("model", ["vae", "gan"])
def test_bf16_run_stays_close_to_float32(tmp_path, model):
    runs = {}
    for precision in ("32", "bf16"):
        train_run(
            tmp_path / precision,
            [f"model={model}", "n_epochs=2", "metrics.backbone=none", f"trainer.precision={precision}", *SMOKE],
        )
        runs[precision] = read_csv(tmp_path / precision / "metrics.csv")
    for ref, low in zip(runs["32"], runs["bf16"]):
        for key in ref:
            if key.startswith(("train_", "val_")):
                a, b = float(ref[key]), float(low[key])
                # A term of a larger objective (the VAE's KL, 1% of its loss) is held to that objective's scale:
                # how far its own few-step value moves depends on the CPU's bfloat16 kernels (train_kl 2.84
                # against 2.83 on this project's machine, 3.11 on an H200 host's CPU, where the loss stayed within 3%).
                whole = float(ref.get(key.split("_")[0] + "_loss", 0))
                assert abs(a - b) <= 0.03 * max(abs(a), abs(whole)) + 0.02, (key, a, b)


def test_float16_loss_scale_travels_with_the_checkpoint():
    model = _model("vae", precision="16-mixed")
    x = model.to_input(torch.randint(0, 256, (16, 1, 16, 16), dtype=torch.uint8))
    for _ in range(3):
        out = model.train_step(x, torch.zeros(16, dtype=torch.long))
    assert torch.isfinite(out["loss"])
    scale = model.scaler.get_scale()
    assert scale < 65536.0  # the first steps overflowed in float16 and the scaler backed off
    fresh = _model("vae", precision="16-mixed")
    fresh.load_training_state(model.training_state())
    assert fresh.scaler.get_scale() == scale


@pytest.mark.parametrize("name", ["dcgan", "vae"])
def test_channels_last_changes_layout_not_results(name):
    plain, fast = _model(name), _model(name, channels_last=True)
    x = torch.randint(0, 256, (8, 1, 16, 16), dtype=torch.uint8)
    assert fast.to_input(x).is_contiguous(memory_format=torch.channels_last)
    y = torch.zeros(8, dtype=torch.long)
    for _ in range(2):
        torch.manual_seed(1)
        a = plain.train_step(plain.to_input(x), y)
        torch.manual_seed(1)
        b = fast.train_step(fast.to_input(x), y)
    for k in a:
        assert b[k].item() == pytest.approx(a[k].item(), rel=1e-4, abs=1e-5)


@pytest.mark.skipif(
    not (shutil.which("cc") and Path(sysconfig.get_paths()["include"], "Python.h").is_file()),
    reason="torch.compile builds C code: needs a C compiler (cc) and Python's headers (Python.h)",
)
def test_compile_keeps_checkpoints_interchangeable():
    """A compiled model (which compiles on its first forward pass) trains, and its checkpoint loads into a
    plain one that then draws the same samples, and back."""
    plain, compiled = _model("wgan_gp"), _model("wgan_gp", compile=True)
    # the critic is left alone: its gradient penalty needs double backward, which torch.compile cannot do
    assert compiled.compilable() == ["generator"]
    x, y = torch.rand(32, 1, 16, 16) * 2 - 1, torch.zeros(32, dtype=torch.long)
    for _ in range(2):
        out = compiled.train_step(x, y)
    assert torch.isfinite(out["loss_g"])
    assert compiled.training_state()["weights"].keys() == plain.training_state()["weights"].keys()
    plain.load_training_state(compiled.training_state())
    z = torch.randn(5, plain.z_dim)
    plain.eval(), compiled.eval()
    assert torch.allclose(plain.sample(z), compiled.sample(z), atol=1e-5)
    untrained = _model("wgan_gp").eval()
    assert not torch.allclose(untrained.sample(z), compiled.sample(z), atol=1e-3)
    compiled.load_training_state(untrained.training_state())
    assert torch.allclose(untrained.sample(z), compiled.sample(z), atol=1e-5)


@pytest.mark.parametrize(
    "override, words",
    [
        ("trainer.precision=fp8", "use 32, bf16 or 16-mixed"),
        ("trainer.compile=maybe", "trainer.compile='maybe' is invalid"),
        ("trainer.channels_last=1", "trainer.channels_last=1 is invalid"),
    ],
)
def test_bad_speed_options_are_refused(override, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        validate(make_cfg([override]))
