"""CIFAR-10: torchvision's download; its python pickle batches read directly; official test batch.

torchvision layout: <root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torchvision.datasets as tvd
from omegaconf import DictConfig

from gensweep.data.cache import official_splits
from gensweep.data.checksums import warn_if_modified
from gensweep.data.fetch import corrupt, ensure_files
from gensweep.data.tensors import ImageTensors

# torchvision's class: its file lists, checksums and download
TORCHVISION_SET = tvd.CIFAR10


def _read_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        # The published batches (Python 2 pickles) load with str keys; batches re-saved from Python 3
        # after loading with encoding="bytes" have b"data" / b"labels" keys.
        entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = list(entry["labels"])
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, pickle.UnpicklingError) as err:
        raise corrupt(path, err) from err
    if len(data) != len(labels):
        raise corrupt(path, ValueError(f"{len(data)} images but {len(labels)} labels"))
    return data, labels


def _read(root: Path, split: str, download: bool) -> ImageTensors:
    folder = root / TORCHVISION_SET.base_folder
    files = TORCHVISION_SET.train_list if split == "train" else TORCHVISION_SET.test_list
    every = [name for name, _ in TORCHVISION_SET.train_list + TORCHVISION_SET.test_list] + [
        TORCHVISION_SET.meta["filename"]
    ]
    ensure_files(
        "CIFAR-10",
        root,
        lambda: all((folder / name).is_file() for name, _ in files),
        download,
        lambda: TORCHVISION_SET(str(root), train=split == "train", download=True),
        "\n".join(f"  {folder}/{name}" for name in every),
    )
    images, labels = [], []
    for name, md5 in files:
        warn_if_modified(folder / name, md5)
        data, lab = _read_batch(folder / name)
        images.append(torch.from_numpy(data))
        labels += lab
    return ImageTensors(torch.cat(images), torch.tensor(labels, dtype=torch.int64))


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    return official_splits(cfg, "CIFAR-10", _read)
