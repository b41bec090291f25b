"""Datasets of made-up images written in each set's real on-disk format, to load through the real code offline:
the tests' tiny sets and the benchmarks' full-size ones (throughput does not depend on the pixels).

Images carry their label as brightness (label * 20 + noise) so tests can check that labels stay attached.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image

RNG = np.random.default_rng(0)


def _labelled(n: int, shape: tuple[int, ...], classes: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % classes
    images = (labels.reshape(-1, *[1] * len(shape)) * 20 + RNG.integers(0, 10, (n, *shape))).astype(np.uint8)
    return images, labels


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    header = struct.pack(">I", 0x0800 | array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(f"{path}.gz", "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def mnist(root: Path, folder: str = "MNIST", n_train: int = 60, n_test: int = 20, gz: bool = False) -> Path:
    raw = root / folder / "raw"
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = _labelled(n, (28, 28), 10)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, gz)
    return raw


def cifar10(root: Path, per_batch: int = 10, n_test: int = 20, bytes_keys: bool = False) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", n_test)]
    for name, n in batches:
        images, labels = _labelled(n, (3, 32, 32), 10)
        entry = {
            "batch_label": name,
            "labels": labels.tolist(),
            "data": images.reshape(n, -1),
            "filenames": [f"img_{i}.png" for i in range(n)],
        }
        if bytes_keys:  # as re-saved from Python 3 after pickle.load(..., encoding="bytes")
            entry = {k.encode(): v for k, v in entry.items()}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder


def svhn(root: Path, n_train: int = 40, n_test: int = 20) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = _labelled(n, (3, 32, 32), 10)
        mat_labels = np.where(labels == 0, 10, labels).reshape(-1, 1).astype(np.uint8)  # SVHN writes 0 as 10
        scipy.io.savemat(root / f"{split}_32x32.mat", {"X": np.transpose(images, (2, 3, 1, 0)), "y": mat_labels})
    return root


def write_jpeg(path: Path, value: int, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.clip(value + RNG.integers(0, 10, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=95)


def celeba(root: Path, n: int = 30, attributes: bool = False) -> Path:
    folder = root / "celeba"
    lines, attr = [], []
    for i in range(1, n + 1):
        name = f"{i:06d}.jpg"
        write_jpeg(folder / "img_align_celeba" / name, 100, (178, 218))  # CelebA's aligned size
        lines.append(f"{name} {0 if i <= n * 0.6 else (1 if i <= n * 0.8 else 2)}")
        attr.append(f"{name} {' '.join('1' if (i + k) % 2 else '-1' for k in range(3))}")
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    if attributes:
        (folder / "list_attr_celeba.txt").write_text(f"{n}\n5_o_Clock_Shadow Smiling Young\n" + "\n".join(attr) + "\n")
    return folder


def zappos(root: Path, per_category: int = 6) -> Path:
    folder = root / "ut-zap50k-images-square"
    for label, category in enumerate(("Boots", "Sandals", "Shoes", "Slippers")):
        for i in range(per_category):
            write_jpeg(folder / category / f"Brand{i % 2}" / f"{i}.{label}.jpg", label * 60, (136, 136))
    return folder
