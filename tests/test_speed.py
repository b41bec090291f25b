"""Speed options: mixed precision stays within the float32 run's tolerances, channels-last and compile change
no result and no checkpoint, and bad values are refused."""
from __future__ import annotations

import pytest
import torch

from conftest import SMOKE, make_cfg, read_csv, train_run
from gensweep.models.build import build_model
from gensweep.config import validate
from gensweep.errors import ConfigError


def _model(name: str, **options):
    cfg = make_cfg([f"model={name}", "device=cpu"])
    values = validate(cfg)
    torch.manual_seed(0)
    model = build_model(cfg, values, (1, 16, 16), 10)
    model.accelerate(**options)
    return model


@pytest.mark.parametrize("model", ["vae", "gan"])
def test_bf16_run_stays_close_to_float32(tmp_path, model):
    runs = {}
    for precision in ("32", "bf16"):
        train_run(tmp_path / precision, [f"model={model}", "n_epochs=2", "metrics.backbone=none",
                                         f"trainer.precision={precision}", *SMOKE])
        runs[precision] = read_csv(tmp_path / precision / "metrics.csv")
    for ref, low in zip(runs["32"], runs["bf16"]):
        for key in ref:
            if key.startswith(("train_", "val_")):
                a, b = float(ref[key]), float(low[key])
                assert abs(a - b) <= 0.03 * abs(a) + 0.02, (key, a, b)


def test_float16_loss_scale_travels_with_the_checkpoint():
    model = _model("vae", precision="16-mixed")
    x = model.to_input(torch.randint(0, 256, (16, 1, 16, 16), dtype=torch.uint8))
    for _ in range(3):
        out = model.train_step(x, torch.zeros(16, dtype=torch.long))
    assert torch.isfinite(out["loss"])
    scale = model.scaler.get_scale()
    assert scale < 65536.0  # the first steps overflowed in float16 and the scaler backed off
    fresh = _model("vae", precision="16-mixed")
    fresh.load_state_dict(model.state_dict())
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


def test_compile_keeps_checkpoints_interchangeable():
    plain, compiled = _model("wgan_gp"), _model("wgan_gp", compile=True)
    # the critic is left alone: its gradient penalty needs double backward, which torch.compile cannot do
    assert compiled.compilable() == ["generator"]
    assert plain.state_dict()["nets"].keys() == compiled.state_dict()["nets"].keys()
    for k in ("generator", "discriminator"):
        assert plain.nets[k].state_dict().keys() == compiled.nets[k].state_dict().keys()
    compiled.load_state_dict(plain.state_dict())


@pytest.mark.parametrize("override, words", [
    ("trainer.precision=fp8", "use 32, bf16 or 16-mixed"),
    ("trainer.compile=maybe", "trainer.compile='maybe' is invalid"),
    ("trainer.channels_last=1", "trainer.channels_last=1 is invalid"),
])
def test_bad_speed_options_are_refused(override, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        validate(make_cfg([override]))
