"""CelebA aligned faces: torchvision's download; images read from img_align_celeba/ with the official
partition file; centre-cropped to a square and resized to image_size (64 by default).

Layout (torchvision's): <root>/celeba/img_align_celeba/*.jpg and <root>/celeba/list_eval_partition.txt;
<root> itself may also be the celeba folder. torchvision's Google-Drive download often hits its quota, so
the error says where to put the files by hand. With `label_attribute` (e.g. Smiling), labels are that
attribute from list_attr_celeba.txt (0/1), for the conditional DCGAN; otherwise every label is 0.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision.datasets as tvd
from omegaconf import DictConfig

from gensweep.data.cache import converted
from gensweep.data.fetch import check_val_split, ensure_files
from gensweep.data.image_files import decode_files
from gensweep.data.location import dataset_root
from gensweep.data.tensors import ImageTensors
from gensweep.errors import DatasetError

PARTITIONS = {"train": "0", "valid": "1", "test": "2"}
LAYOUT = """  {folder}/img_align_celeba/000001.jpg ... 202599.jpg
  {folder}/list_eval_partition.txt
  {folder}/list_attr_celeba.txt   (only with dataset.label_attribute)
(the files of https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, "Align&Cropped Images")"""


def _folder(root: Path) -> Path:
    """<root>/celeba (torchvision) or <root> itself when it already holds img_align_celeba/."""
    return root if (root / "img_align_celeba").is_dir() else root / tvd.CelebA.base_folder


def _table(path: Path) -> list[list[str]]:
    try:
        return [line.split() for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"cannot read {path} ({err}); replace it with the published file") from err


def _attribute_labels(folder: Path, attribute: str) -> dict[str, int]:
    path = folder / "list_attr_celeba.txt"
    rows = _table(path)
    if len(rows) < 2 or attribute not in rows[1]:
        names = ", ".join(rows[1][:8]) + ", ..." if len(rows) > 1 else "none"
        raise DatasetError(f"dataset.label_attribute={attribute!r} is not a column of {path} (columns: {names})")
    col = rows[1].index(attribute) + 1
    return {r[0]: int(r[col] == "1") for r in rows[2:]}


def _read(cfg: DictConfig, root: Path, split: str) -> ImageTensors:
    folder = _folder(root)
    partition = folder / "list_eval_partition.txt"
    ensure_files(
        "CelebA",
        root,
        lambda: partition.is_file() and (folder / "img_align_celeba").is_dir(),
        bool(cfg.download),
        lambda: tvd.CelebA(str(root), split="all", target_type=[], download=True),
        LAYOUT.format(folder=folder),
    )
    rows = _table(partition)
    bad = [r for r in rows if len(r) != 2 or r[1] not in PARTITIONS.values()]
    if bad:
        raise DatasetError(f"{partition} is corrupt: line {' '.join(bad[0])!r} is not '<image> <0|1|2>'; replace it")
    names = [r[0] for r in rows if r[1] == PARTITIONS[split]]
    if not names:
        raise DatasetError(f"{partition} lists no images in the {split} partition")
    paths = [folder / "img_align_celeba" / n for n in names]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(
            f"{len(missing)} image(s) listed in {partition} are missing from {folder / 'img_align_celeba'}, "
            f"e.g. {missing[0].name}; unpack img_align_celeba.zip there completely"
        )
    labels = torch.zeros(len(names), dtype=torch.int64)
    if cfg.get("label_attribute"):
        table = _attribute_labels(folder, str(cfg.label_attribute))
        labels = torch.tensor([table[n] for n in names], dtype=torch.int64)
    return ImageTensors(decode_files(paths, int(cfg.image_size), int(cfg.channels)), labels)


def load(cfg: DictConfig) -> tuple[ImageTensors, ImageTensors]:
    root = dataset_root(cfg)
    val_split = check_val_split(cfg, ("test", "valid"), "CelebA")
    label = f"-{cfg.label_attribute}" if cfg.get("label_attribute") else ""
    train = converted(cfg, f"train{label}", lambda: _read(cfg, root, "train"))
    return train, converted(cfg, f"{val_split}{label}", lambda: _read(cfg, root, val_split))
