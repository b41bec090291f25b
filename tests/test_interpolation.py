"""Latent vs pixel interpolation: the endpoints are what the docs say they are."""

from __future__ import annotations

import torch
from conftest import make_cfg

from gensweep.artifacts.interpolation import interpolate
from gensweep.config import validate
from gensweep.models.build import build_model


def model_for(name: str):
    cfg = make_cfg([f"model={name}", "device=cpu"])
    return build_model(cfg, validate(cfg), (1, 16, 16), 10)


def test_autoencoder_rows_run_between_two_real_images():
    model = model_for("vae")
    real = torch.rand(2, 1, 16, 16)
    latent, pixel = interpolate(model, real, torch.tensor([3, 5]), torch.Generator().manual_seed(0))
    assert latent.shape == pixel.shape == (10, 1, 16, 16)
    assert torch.allclose(pixel[0], real[0]) and torch.allclose(pixel[-1], real[1])
    assert torch.allclose(pixel[4], real[0] + (real[1] - real[0]) * 4 / 9, atol=1e-6)
    recon = model.reconstruct(real)
    assert torch.allclose(latent[0], recon[0], atol=1e-5) and torch.allclose(latent[-1], recon[1], atol=1e-5)


def test_generator_rows_share_endpoints():
    model = model_for("cdcgan")
    real = torch.rand(2, 1, 16, 16) * 2 - 1
    latent, pixel = interpolate(model, real, torch.tensor([7, 2]), torch.Generator().manual_seed(0))
    assert torch.allclose(latent[0], pixel[0], atol=1e-5) and torch.allclose(latent[-1], pixel[-1], atol=1e-5)
    assert 0 <= latent.min() and latent.max() <= 1
    assert not torch.allclose(latent[4], pixel[4])  # the latent path is not a cross-fade
