"""A real colour set at CIFAR-10's shape and in its file format, cut from ten photographs that Debian's
wallpaper packages ship, for developing the colour recipes where CIFAR-10 cannot be downloaded.

    apt-get install -y mate-backgrounds plasma-workspace-wallpapers
    python tools/colour_photos.py data/photo_crops          # then: dataset=cifar10 dataset.root=data/photo_crops

Each class is one photograph (a flower, grass, dunes, a forest path, ...). Its pixels are cut into a grid of
tiles and a seeded fifth of the tiles is held out, so that no test image shares a pixel with a training image.
Every image is a square crop of a random size (from 1/25 to 1/5 of the photograph's shorter side) at a random
place inside one tile, scaled down to 32x32 with antialiasing: 5,000 training and 1,000 test images a class,
written as torchvision's CIFAR-10 python batches (<out>/cifar-10-batches-py/data_batch_1..5, test_batch,
batches.meta). What the set is and is not: docs/datasets.md.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from results import doc_parser

# (class name, Debian package, file): photographs only (checked by eye: no drawings or renders)
PHOTOS = (
    ("water_drop", "mate-backgrounds", "/usr/share/backgrounds/mate/nature/Aqua.jpg"),
    ("dune_grass", "mate-backgrounds", "/usr/share/backgrounds/mate/nature/Dune.jpg"),
    ("orange_flower", "mate-backgrounds", "/usr/share/backgrounds/mate/nature/FreshFlower.jpg"),
    ("meadow", "mate-backgrounds", "/usr/share/backgrounds/mate/nature/GreenMeadow.jpg"),
    ("storm", "mate-backgrounds", "/usr/share/backgrounds/mate/nature/Storm.jpg"),
    ("wood", "mate-backgrounds", "/usr/share/backgrounds/mate/nature/Wood.jpg"),
    ("cups", "plasma-workspace-wallpapers", "/usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg"),
    ("boats_at_dusk", "plasma-workspace-wallpapers", "/usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg"),
    ("autumn_leaves", "plasma-workspace-wallpapers", "/usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg"),
    ("forest_path", "plasma-workspace-wallpapers", "/usr/share/wallpapers/Path/contents/images/2560x1600.jpg"),
)
SIZE = 32
GRID = (8, 5)  # tiles across, down
TEST_SHARE = 0.2
CROP = (1 / 25, 1 / 5)  # crop side, as a share of the photograph's shorter side


def tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The photograph's grid of tiles as (left, top, right, bottom)."""
    cols, rows = GRID
    xs = np.linspace(0, width, cols + 1).astype(int)
    ys = np.linspace(0, height, rows + 1).astype(int)
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(cols)]


def crops(photo: Image.Image, boxes: list[tuple[int, int, int, int]], n: int, rng: np.random.Generator) -> np.ndarray:
    """n random square crops, each inside one of `boxes`, scaled to SIZE x SIZE: uint8 (n, 3, SIZE, SIZE)."""
    short = min(photo.size)
    out = np.empty((n, 3, SIZE, SIZE), dtype=np.uint8)
    for k in range(n):
        left, top, right, bottom = boxes[rng.integers(len(boxes))]
        side = int(min(rng.uniform(*CROP) * short, right - left, bottom - top))
        x = rng.integers(left, right - side + 1)
        y = rng.integers(top, bottom - side + 1)
        crop = photo.crop((x, y, x + side, y + side)).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        out[k] = np.asarray(crop, dtype=np.uint8).transpose(2, 0, 1)
    return out


def build(n_train: int, n_test: int, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(train images, labels), (test images, labels), shuffled."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"train": [], "test": []}
    for label, (_, _, path) in enumerate(PHOTOS):
        photo = Image.open(path).convert("RGB")
        grid = tiles(*photo.size)
        held = set(rng.choice(len(grid), size=round(TEST_SHARE * len(grid)), replace=False).tolist())
        for split, n, boxes in (
            ("train", n_train, [t for i, t in enumerate(grid) if i not in held]),
            ("test", n_test, [t for i, t in enumerate(grid) if i in held]),
        ):
            parts[split].append((crops(photo, boxes, n, rng), np.full(n, label, dtype=np.int64)))
    out = []
    for split in ("train", "test"):
        images = np.concatenate([p[0] for p in parts[split]])
        labels = np.concatenate([p[1] for p in parts[split]])
        order = rng.permutation(len(images))
        out.append((images[order], labels[order]))
    return out[0], out[1]


def write_batches(folder: Path, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> None:
    """torchvision's CIFAR-10 layout: five training batches, one test batch and the label names."""
    folder.mkdir(parents=True, exist_ok=True)

    def dump(name: str, images: np.ndarray, labels: np.ndarray) -> None:
        entry = {
            "batch_label": name,
            "labels": labels.tolist(),
            "data": images.reshape(len(images), -1),
            "filenames": [f"{name}_{i:05d}.png" for i in range(len(images))],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)

    for i, (images, labels) in enumerate(zip(np.array_split(train[0], 5), np.array_split(train[1], 5)), start=1):
        dump(f"data_batch_{i}", images, labels)
    dump("test_batch", *test)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(
            {
                "label_names": [name for name, _, _ in PHOTOS],
                "num_cases_per_batch": len(train[0]) // 5,
                "num_vis": 3 * SIZE * SIZE,
            },
            f,
        )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("out", type=Path, help="the dataset root (gets cifar-10-batches-py/)")
    parser.add_argument("--train-per-class", type=int, default=5000)
    parser.add_argument("--test-per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    missing = sorted({package for _, package, path in PHOTOS if not Path(path).is_file()})
    if missing:
        sys.exit(f"error: the photographs are missing; install them with: apt-get install -y {' '.join(missing)}")
    folder = args.out / "cifar-10-batches-py"
    if folder.exists():
        sys.exit(f"error: {folder} exists; remove it or choose another folder")
    train, test = build(args.train_per_class, args.test_per_class, args.seed)
    write_batches(folder, train, test)
    print(f"{len(train[0])} training and {len(test[0])} test images in {len(PHOTOS)} classes: {folder}")


if __name__ == "__main__":
    main()
