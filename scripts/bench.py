"""Training throughput, three ways, on the same networks: gensweep's trainer (a), the bare-model limit (b) and
the usual peer loop (c), with the ratios a/b and a/c.

    python scripts/bench.py                                   # CPU, every model, MNIST- and CIFAR-sized data
    python scripts/bench.py --device cuda --steps-per-epoch 100
    python scripts/bench.py --models vae,gan --shapes mnist --steps-per-epoch 20    # a quick look

(a) gensweep's real trainer (`Trainer.fit`) for `--epochs` epochs of `--steps-per-epoch` steps, with all a
    default run does per epoch: validation, sample grid, checkpoint, FID/KID every 5 epochs and at the end,
    curves and interpolation at the end. Data loading and the FID backbone's one-off setup are left out
    (they happen once per run, before training: see the startup figures).
(b) the bare limit: `model.train_step` on one pre-made float batch already on the device, nothing else.
(c) the usual peer loop: torchvision's MNIST / CIFAR10 Dataset with ToTensor (+ Normalize to [-1, 1] for
    the GANs) through a DataLoader (`--workers`, shuffle, drop_last, pin_memory on CUDA) feeding the same step.

The data are random uint8 images written in the real on-disk formats (MNIST idx files, CIFAR-10 pickle
batches) under a temporary folder: throughput does not depend on content. Results go to bench.csv.
"""
from __future__ import annotations

import argparse
import csv
import pickle
import resource
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

MODELS = ("vae", "cae", "gan", "wgan", "wgan_gp", "dcgan", "cdcgan")
SHAPES = {"mnist": (1, 28, 28), "cifar": (3, 32, 32)}
BATCH = 128


def write_mnist(root: Path, n_train: int, n_test: int) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def write_cifar(root: Path, n_train: int, n_test: int) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    per = -(-n_train // 5)
    for name, n in [(f"data_batch_{i}", per) for i in range(1, 6)] + [("test_batch", n_test)]:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": rng.integers(0, 10, n).tolist()}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}, protocol=2))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's high-water mark so far


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def compose(model: str, shape: str, root: Path, device: str, epochs: int, extra: list[str]):
    from hydra import compose as hydra_compose, initialize_config_module

    dataset = "mnist" if shape == "mnist" else "cifar10"
    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        return hydra_compose(config_name="config", overrides=[
            f"model={model}", f"dataset={dataset}", f"dataset.root={root}", "dataset.download=false",
            f"device={device}", "trainer.progress=false", f"batch_size={BATCH}", f"n_epochs={epochs}", *extra])


def bench_trainer(cfg, run_dir: Path) -> tuple[float, float, int]:
    """(a): images/s of Trainer.fit as a run builds it (set-up before the first step left out), peak memory, steps."""
    from gensweep.cli import build_trainer

    run_dir.mkdir(parents=True)
    trainer, _ = build_trainer(cfg, run_dir)
    _reset_peak(trainer.device)
    start = time.perf_counter()
    summary = trainer.fit(resume=False)
    _sync(trainer.device)
    seconds = time.perf_counter() - start
    return summary["steps"] * BATCH / seconds, _peak_mb(trainer.device), summary["steps"]


def bench_bare(cfg, shape: tuple[int, int, int], steps: int) -> tuple[float, float]:
    """(b): images/s of train_step alone on one batch already on the device."""
    from gensweep.cli import build_model
    from gensweep.config import validate

    values = validate(cfg)
    torch.manual_seed(0)
    model = build_model(cfg, values, shape, 10)
    model.set_train(True)
    x = model.to_input(torch.randint(0, 256, (BATCH, *shape), dtype=torch.uint8))
    y = torch.randint(0, 10, (BATCH,), device=model.device)
    for _ in range(3):
        model.train_step(x, y)
    _sync(model.device)
    _reset_peak(model.device)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_step(x, y)
    _sync(model.device)
    return steps * BATCH / (time.perf_counter() - start), _peak_mb(model.device)


def bench_peer(cfg, shape_name: str, root: Path, steps: int, workers: int) -> tuple[float, float]:
    """(c): images/s of the same step fed by a torchvision Dataset through a DataLoader."""
    import torchvision.datasets as tvd
    import torchvision.transforms as T

    from gensweep.cli import build_model
    from gensweep.config import validate

    class RandomCIFAR10(tvd.CIFAR10):
        """CIFAR10 reading the benchmark's own pickles (random files have no published checksums)."""

        def _check_integrity(self) -> bool:
            return True

        def _load_meta(self) -> None:
            self.classes = [str(i) for i in range(10)]

    values = validate(cfg)
    torch.manual_seed(0)
    shape = SHAPES[shape_name]
    model = build_model(cfg, values, shape, 10)
    model.set_train(True)
    steps_tf = [T.ToTensor()] + ([T.Normalize((0.5,) * shape[0], (0.5,) * shape[0])] if model.value_range == "symmetric" else [])
    transform = T.Compose(steps_tf)
    cls = tvd.MNIST if shape_name == "mnist" else RandomCIFAR10
    dataset = cls(str(root), train=True, download=False, transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=True,
                                         pin_memory=model.device.type == "cuda", persistent_workers=workers > 0)
    done, start = -3, 0.0
    while done < steps:
        for x, y in loader:
            if done == 0:
                _sync(model.device)
                _reset_peak(model.device)
                start = time.perf_counter()
            model.train_step(x.to(model.device, non_blocking=True), y.to(model.device, non_blocking=True))
            done += 1
            if done >= steps:
                break
    _sync(model.device)
    return steps * BATCH / (time.perf_counter() - start), _peak_mb(model.device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--shapes", default="mnist,cifar")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps-per-epoch", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the peer loop (c)")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/bench.csv"))
    parser.add_argument("overrides", nargs="*", help="gensweep keys for every run, e.g. width=128")
    args = parser.parse_args()
    steps = args.epochs * args.steps_per_epoch
    rows = []
    with tempfile.TemporaryDirectory(prefix="gensweep-bench-") as tmp:
        tmp_path = Path(tmp)
        for shape_name in args.shapes.split(","):
            root = tmp_path / shape_name
            n_train = args.steps_per_epoch * BATCH
            (write_mnist if shape_name == "mnist" else write_cifar)(root, n_train, 1000)
            for model in args.models.split(","):
                cfg = compose(model, shape_name, root, args.device, args.epochs, args.overrides)
                a, mem_a, done = bench_trainer(cfg, tmp_path / f"run-{shape_name}-{model}")
                b, mem_b = bench_bare(cfg, SHAPES[shape_name], steps)
                c, mem_c = bench_peer(cfg, shape_name, root, steps, args.workers)
                row = {"device": args.device, "data": shape_name, "model": model, "steps": done,
                       "trainer_img_s": round(a, 1), "bare_img_s": round(b, 1), "peer_img_s": round(c, 1),
                       "a_over_b": round(a / b, 3), "a_over_c": round(a / c, 3),
                       "peak_mb_trainer": round(mem_a, 1), "peak_mb_bare": round(mem_b, 1), "peak_mb_peer": round(mem_c, 1)}
                rows.append(row)
                print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    columns = list(rows[0])
    print(f"\n{args.device}, batch {BATCH}, {args.epochs} epochs x {args.steps_per_epoch} steps, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| " + " | ".join(columns[1:]) + " |")
    print("|" + "---|" * (len(columns) - 1))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns[1:]) + " |")
    print(f"\nwritten: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
