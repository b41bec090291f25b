"""UT Zappos50K (Yu & Grauman, 2014), square images: four categories as top-level folders (Boots, Sandals,
Shoes, Slippers) with brand sub-folders of JPEGs. No official test split: a fixed seeded split.

Layout: <root>/Boots/**/*.jpg, <root>/Sandals/..., ... where <root> is the unpacked
ut-zap50k-images-square folder (<root>/ut-zap50k-images-square/ is found too).
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig
from torchvision.datasets.utils import download_and_extract_archive

from gensweep.data.cache import converted
from gensweep.data.fetch import check_val_split, ensure_files
from gensweep.data.image_files import decode_files, list_images
from gensweep.data.location import dataset_root
from gensweep.data.split import seeded_split
from gensweep.data.tensors import ImageTensors
from gensweep.errors import DatasetError

CATEGORIES = ("Boots", "Sandals", "Shoes", "Slippers")
FOLDER = "ut-zap50k-images-square"
URL = "https://vision.cs.utexas.edu/projects/finegrained/utzap50k/ut-zap50k-images-square.zip"


def _folder(root: Path) -> Path:
    return root / FOLDER if not (root / CATEGORIES[0]).is_dir() and (root / FOLDER).is_dir() else root


def _read(cfg: DictConfig, root: Path) -> ImageTensors:
    folder = _folder(root)
    ensure_files(
        "UT Zappos50K",
        root,
        lambda: any((_folder(root) / c).is_dir() for c in CATEGORIES),
        bool(cfg.download),
        lambda: download_and_extract_archive(URL, str(root)),
        "\n".join(f"  {folder}/{c}/<brand>/*.jpg" for c in CATEGORIES) + f"\n(unpacked from {URL})",
    )
    folder = _folder(root)
    paths, labels = [], []
    for label, category in enumerate(CATEGORIES):
        found = list_images(folder / category) if (folder / category).is_dir() else []
        if not found:
            raise DatasetError(
                f"{folder / category} has no .jpg/.png images; unpack the full {FOLDER}.zip into {folder}"
            )
        paths += found
        labels += [label] * len(found)
    images = decode_files(paths, int(cfg.image_size), int(cfg.channels))
    return ImageTensors(images, torch.tensor(labels, dtype=torch.int64))


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    check_val_split(cfg, ("seeded",), "UT Zappos50K")
    root = dataset_root(cfg)
    every = converted(cfg, "all", lambda: _read(cfg, root))
    return seeded_split(every, float(cfg.val_fraction), int(cfg.split_seed))
