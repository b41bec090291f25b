"""SVHN (cropped digits): torchvision's download; its .mat files read with SciPy; official test split.

torchvision layout: <root>/train_32x32.mat and <root>/test_32x32.mat (also found in <root>/svhn/).
Label 10 in the files means the digit 0, as in torchvision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import torch
import torchvision.datasets as tvd
from omegaconf import DictConfig

from gensweep.data.cache import official_splits
from gensweep.data.checksums import warn_if_modified
from gensweep.data.fetch import corrupt, ensure_files
from gensweep.data.tensors import ImageTensors

# torchvision's class: its file lists, checksums and download
TORCHVISION_SET = tvd.SVHN


def _folder(root: Path, filename: str) -> Path:
    nested = root / "svhn"
    return nested if not (root / filename).exists() and (nested / filename).exists() else root


def _read(root: Path, split: str, download: bool) -> ImageTensors:
    _, filename, md5 = TORCHVISION_SET.split_list[split]
    folder = _folder(root, filename)
    path = folder / filename
    ensure_files(
        "SVHN",
        root,
        path.is_file,
        download,
        lambda: TORCHVISION_SET(str(root), split=split, download=True),
        "\n".join(f"  {root}/{TORCHVISION_SET.split_list[s][1]}" for s in ("train", "test")),
    )
    warn_if_modified(path, md5)
    try:
        mat = scipy.io.loadmat(str(path))
        images = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)))  # (H, W, C, N) -> (N, C, H, W)
        labels = mat["y"].astype(np.int64).reshape(-1)
    except (OSError, EOFError, ValueError, KeyError, TypeError, NotImplementedError) as err:
        raise corrupt(path, err) from err
    if images.dtype != np.uint8 or images.shape[1:] != (3, 32, 32) or len(images) != len(labels):
        raise corrupt(path, ValueError(f"X is {images.dtype} {images.shape}, y has {len(labels)} labels"))
    labels[labels == 10] = 0
    return ImageTensors(torch.from_numpy(images), torch.from_numpy(labels))


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    return official_splits(cfg, "SVHN", _read)
