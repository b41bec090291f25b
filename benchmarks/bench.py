"""Training throughput, three ways, on the same networks: gensweep's trainer (a), the bare-model limit (b) and
the usual peer loop (c), with the ratios a/b and a/c and each one's peak memory.

    python benchmarks/bench.py                                   # CPU, every model, MNIST- and CIFAR-sized data
    python benchmarks/bench.py --device cuda
    python benchmarks/bench.py --models vae,gan --shapes mnist --steps-per-epoch 50      # a quick look
    python benchmarks/bench.py --models dcgan --variants 32,bf16,channels_last,compile   # the speed options

(a) gensweep's real trainer (`Trainer.fit`, built as a run builds it) for `--epochs` epochs of
    `--steps-per-epoch` steps (default: the real epoch, 468 MNIST / 390 CIFAR-10 batches of 128) with all a
    default run does: validation, sample grid and checkpoint every epoch, FID/KID every 5 epochs and at the
    end, curves and interpolations at the end. The default 5 epochs hold one FID evaluation, as every 5
    epochs of a 50-epoch run do, and the end-of-run work that a 50-epoch run spreads over ten times as many.
    Data loading and the FID backbone's one-off setup come before the first step: see benchmarks/startup.py.
(b) the bare limit: `model.train_step` on 4 pre-made float batches already on the device, in turn, nothing else.
(c) the usual peer loop: torchvision's MNIST / CIFAR10 Dataset with ToTensor (+ Normalize to [-1, 1] for
    the GANs) through a DataLoader (`--workers`, shuffle, drop_last, pin_memory on CUDA) feeding the same step.
(b) and (c) time `--measure-steps` steps after 5 warm-up steps. The three run in one fresh process per row
and round, in the order (b), (a), (b) again, (c): (b)'s rate is over both of its runs, which bracket (a), so
a drift of the machine's speed during the row (on a shared machine 10% or more between minutes) hits (a)
and (b) alike. With `--repeats N` that happens N times and each column reports its median round. Peak
memory is each measurement's own (CUDA: max allocated; CPU on Linux: the resident-set high-water mark,
reset between measurements through /proc/self/clear_refs; elsewhere the process's maximum so far).

`in_train_step_pct` (CPU only) is the share of (a)'s wall time spent inside the model's `train_step`, timed
in the same process: a/b as it would be if the machine ran at one speed throughout. On a GPU it stays empty
(nan): timing each step there would need syncs that slow the run being measured. `beyond_steps_pct` is the
share spent outside the epochs' step loops (validation, grids, checkpoints, FID/KID, the end-of-run plots),
`metrics_grids_ckpt_pct` the FID/KID, sample-grid and checkpoint part of it.

`--variants` repeats the table with speed options: 32 (none), bf16, 16-mixed, channels_last, compile,
cudnn_benchmark; (a) and (b) both get the option. The data are made-up uint8 images (tests/fake_data.py)
written in the real on-disk formats (MNIST idx files, CIFAR-10 pickle batches) in a temporary folder: throughput
does not depend on content. Rows go to bench.csv as they finish.

`--write NAME` also writes the table to docs/results/NAME.md (tools/results.py: one header line with the machine,
the date and this command), in the layout of docs/results/bench_cpu.md.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from gensweep.api import write_csv

# the made-up datasets in the real file formats, shared with the tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import fake_data as fake  # noqa: E402

# docs/results/<name>.md under a header line naming the machine, the date and the command
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from results import doc_parser, write  # noqa: E402

MODELS = ("vae", "cae", "gan", "wgan", "wgan_gp", "dcgan", "cdcgan")
SHAPES = {"mnist": (1, 28, 28), "cifar": (3, 32, 32)}
BATCH = 128


VARIANTS = {
    "32": [],
    "bf16": ["trainer.precision=bf16"],
    "16-mixed": ["trainer.precision=16-mixed"],
    "channels_last": ["trainer.channels_last=true"],
    "compile": ["trainer.compile=true"],
    "cudnn_benchmark": ["trainer.cudnn_benchmark=true"],
}
BARE_BATCHES = 4
FULL_EPOCH = {"mnist": 60000 // BATCH, "cifar": 50000 // BATCH}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


PROC = Path("/proc/self")


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    if (PROC / "status").is_file():
        for line in (PROC / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):  # resident-set high-water mark since the last reset, in kB
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's high-water mark (Linux: kB)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    elif (PROC / "clear_refs").is_file():
        (PROC / "clear_refs").write_text("5")  # Linux: VmHWM restarts from the current resident set


def compose(model: str, shape: str, root: Path, device: str, epochs: int, extra: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    dataset = "mnist" if shape == "mnist" else "cifar10"
    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        return hydra_compose(
            config_name="config",
            overrides=[
                f"model={model}",
                f"dataset={dataset}",
                f"dataset.root={root}",
                "dataset.download=false",
                f"device={device}",
                "trainer.progress=false",
                f"batch_size={BATCH}",
                f"n_epochs={epochs}",
                *extra,
            ],
        )


def _build(cfg, shape: tuple[int, int, int]):
    """The run's model with the run's speed options, outside a trainer."""
    from gensweep.api import build_model, validate

    values = validate(cfg)
    torch.manual_seed(0)
    model = build_model(cfg, values, shape, 10)
    t = cfg.trainer
    model.accelerate(str(t.precision), t.channels_last, t.compile)
    if model.device.type == "cuda":
        torch.backends.cudnn.benchmark = bool(t.cudnn_benchmark)
    model.train()
    return model


def bench_trainer(cfg, run_dir: Path) -> dict:
    """(a): images/s of Trainer.fit as a run builds it (set-up before the first step left out), and where the
    time beyond the training steps went."""
    from gensweep.api import build_trainer

    run_dir.mkdir(parents=True)
    trainer, _ = build_trainer(cfg, run_dir)
    in_step = _time_train_step(trainer.model)
    _reset_peak(trainer.device)
    start = time.perf_counter()
    summary = trainer.fit(resume=False)
    _sync(trainer.device)
    seconds = time.perf_counter() - start
    parts = summary["seconds_by_part"]
    return {
        "rate": summary["steps"] * BATCH / seconds,
        "peak": _peak_mb(trainer.device),
        "steps": summary["steps"],
        "in_step": in_step[0] / seconds,
        "beyond_steps": 1 - parts["steps"] / seconds,
        "metrics_grids_ckpt": (parts.get("metrics", 0) + parts.get("samples", 0) + parts.get("checkpoints", 0))
        / seconds,
    }


def _time_train_step(model) -> list[float]:
    """On a CPU, wrap `model.train_step` to add up the seconds spent inside it: the share of the trainer's
    wall time that is model work, measured in one process, which the machine's drift between processes does
    not touch. Not on a GPU: timing a step there needs a sync on each side of it, which would slow the very
    run (a) measures; the total stays NaN."""
    total = [math.nan]
    if model.device.type != "cpu":
        return total
    total[0] = 0.0
    step = model.train_step

    def timed(x, y):
        start = time.perf_counter()
        out = step(x, y)
        total[0] += time.perf_counter() - start
        return out

    model.train_step = timed
    return total


def bench_bare(cfg, shape: tuple[int, int, int], steps: int) -> dict:
    """(b): images/s of train_step alone on pre-made batches already on the device.

    Several distinct batches in turn: one batch over and over lets a model fit it until its numbers turn
    subnormal, which slows CPU arithmetic many times over and would understate the limit."""
    model = _build(cfg, shape)
    xs = [model.to_input(torch.randint(0, 256, (BATCH, *shape), dtype=torch.uint8)) for _ in range(BARE_BATCHES)]
    ys = [torch.randint(0, 10, (BATCH,), device=model.device) for _ in range(BARE_BATCHES)]
    for i in range(5):
        model.train_step(xs[i % BARE_BATCHES], ys[i % BARE_BATCHES])
    _sync(model.device)
    _reset_peak(model.device)
    start = time.perf_counter()
    for i in range(steps):
        model.train_step(xs[i % BARE_BATCHES], ys[i % BARE_BATCHES])
    _sync(model.device)
    return {"rate": steps * BATCH / (time.perf_counter() - start), "peak": _peak_mb(model.device)}


def bench_peer(cfg, shape_name: str, root: Path, steps: int, workers: int) -> dict:
    """(c): images/s of the same step fed by a torchvision Dataset through a DataLoader."""
    import torchvision.datasets as tvd
    import torchvision.transforms as T

    shape = SHAPES[shape_name]
    model = _build(cfg, shape)
    channels = [T.Normalize((0.5,) * shape[0], (0.5,) * shape[0])] if model.value_range == "symmetric" else []
    transform = T.Compose([T.ToTensor(), *channels])
    cls = tvd.MNIST if shape_name == "mnist" else _random_cifar10()
    dataset = cls(str(root), train=True, download=False, transform=transform)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=BATCH,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        pin_memory=model.device.type == "cuda",
        persistent_workers=workers > 0,
        multiprocessing_context="fork" if workers > 0 else None,
    )  # Linux's default
    done, start = -5, 0.0
    while done < steps:
        for x, y in loader:
            if done == 0:
                _sync(model.device)
                _reset_peak(model.device)
                start = time.perf_counter()
            x = x.to(model.device, non_blocking=True)
            if model.memory_format is not torch.contiguous_format:
                x = x.contiguous(memory_format=model.memory_format)
            model.train_step(x, y.to(model.device, non_blocking=True))
            done += 1
            if done >= steps:
                break
    _sync(model.device)
    return {"rate": steps * BATCH / (time.perf_counter() - start), "peak": _peak_mb(model.device)}


def _random_cifar10():
    """torchvision's CIFAR10, reading the benchmark's own pickles (random files have no published checksums)."""
    import torchvision.datasets as tvd

    class RandomCIFAR10(tvd.CIFAR10):
        def _check_integrity(self) -> bool:
            return True

        def _load_meta(self) -> None:
            self.classes = [str(i) for i in range(10)]

    return RandomCIFAR10


def median_by_rate(results: list[dict]) -> dict:
    """The measurement with the median rate (the lower middle one for an even count)."""
    return sorted(results, key=lambda r: r["rate"])[(len(results) - 1) // 2]


def measure_round(cfg, shape_name: str, root: Path, run_dir: Path, steps: int, workers: int) -> tuple[dict, dict, dict]:
    """(a), (b), (c) of one row in this process: (b) before and after (a), then (c)."""
    shape = SHAPES[shape_name]
    b1 = bench_bare(cfg, shape, steps)
    a = bench_trainer(cfg, run_dir)
    b2 = bench_bare(cfg, shape, steps)
    b = {"rate": 2 / (1 / b1["rate"] + 1 / b2["rate"]), "peak": max(b1["peak"], b2["peak"])}  # images / total time
    return a, b, bench_peer(cfg, shape_name, root, steps, workers)


def _child(queue, args) -> None:
    queue.put(measure_round(*args))


def isolated(*args) -> tuple[dict, dict, dict]:
    """One round in a fresh process: no warm caches, allocator or threads carried over from another row."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, args))  # not a daemon: (c) starts DataLoader workers
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"the round {args[1:]} failed (exit {proc.exitcode}); its traceback is above")
    return queue.get()


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}%"


def results_table(rows: list[dict], caption: str) -> str:
    """The rows as docs/results/bench_cpu.md lays them out: rates with thousands separators, ratios to two
    places, shares in percent, the three peaks in one column; a variant column only when a row has an option."""
    variants = any(r["variant"] != "32" for r in rows)
    head = ["data", "model", *(["variant"] if variants else []), "(a) steps", "(a) trainer img/s", "(b) bare img/s"]
    head += ["(c) peer img/s", "a/b", "a/c", "(a) in train_step", "(a) beyond steps", "metrics + grids + ckpt"]
    head += ["peak MB a / b / c"]
    lines = [caption, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["data"], r["model"], *([r["variant"]] if variants else []), str(r["steps_a"])]
        cells += [f"{r[k]:,.0f}" for k in ("trainer_img_s", "bare_img_s", "peer_img_s")]
        cells += [f"{r['a_over_b']:.2f}", f"{r['a_over_c']:.2f}"]
        cells += [_pct(r[k]) for k in ("in_train_step_pct", "beyond_steps_pct", "metrics_grids_ckpt_pct")]
        cells.append(f"{r['peak_mb_a']} / {r['peak_mb_b']} / {r['peak_mb_c']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--shapes", default="mnist,cifar")
    parser.add_argument("--variants", default="32", help=f"comma list of {', '.join(VARIANTS)}")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="default: the real epoch (468 / 390)")
    parser.add_argument("--measure-steps", type=int, default=300, help="steps timed in (b) and (c)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="rounds of (a), (b), (c); each column reports its median round (a shared machine's speed drifts)",
    )
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the peer loop (c)")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/bench.csv"))
    parser.add_argument(
        "--write", metavar="NAME", default=None, help="also write the table to docs/results/NAME.md (e.g. bench_cpu)"
    )
    parser.add_argument("overrides", nargs="*", help="gensweep keys for every run, e.g. width=128")
    args = parser.parse_args()
    for v in args.variants.split(","):
        if v not in VARIANTS:
            parser.error(f"--variants: {v!r} is not one of {', '.join(VARIANTS)}")
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gensweep-bench-") as tmp:
        tmp_path = Path(tmp)
        for shape_name in args.shapes.split(","):
            per_epoch = args.steps_per_epoch or FULL_EPOCH[shape_name]
            root = tmp_path / shape_name
            if shape_name == "mnist":
                fake.mnist(root, n_train=per_epoch * BATCH, n_test=1000)
            else:
                fake.cifar10(root, per_batch=-(-per_epoch * BATCH // 5), n_test=1000)
            for model in args.models.split(","):
                for variant in args.variants.split(","):
                    cfg = compose(
                        model, shape_name, root, args.device, args.epochs, [*VARIANTS[variant], *args.overrides]
                    )
                    rounds = []
                    for r in range(args.repeats):
                        run_dir = tmp_path / f"run-{shape_name}-{model}-{variant}-{r}"
                        rounds.append(isolated(cfg, shape_name, root, run_dir, args.measure_steps, args.workers))
                    a, b, c = (median_by_rate([rnd[i] for rnd in rounds]) for i in range(3))
                    row = {
                        "device": args.device,
                        "data": shape_name,
                        "model": model,
                        "variant": variant,
                        "steps_a": a["steps"],
                        "trainer_img_s": round(a["rate"], 1),
                        "bare_img_s": round(b["rate"], 1),
                        "peer_img_s": round(c["rate"], 1),
                        "a_over_b": round(a["rate"] / b["rate"], 3),
                        "a_over_c": round(a["rate"] / c["rate"], 3),
                        "in_train_step_pct": round(100 * a["in_step"], 1),
                        "beyond_steps_pct": round(100 * a["beyond_steps"], 1),
                        "metrics_grids_ckpt_pct": round(100 * a["metrics_grids_ckpt"], 1),
                        "peak_mb_a": round(a["peak"]),
                        "peak_mb_b": round(b["peak"]),
                        "peak_mb_c": round(c["peak"]),
                    }
                    rows.append(row)
                    print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
                    write_csv(args.out, rows)
    columns = list(rows[0])[1:]
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    caption = (
        f"{name}, torch {torch.__version__}, batch {BATCH}, (a) {args.epochs} epochs of "
        f"{args.steps_per_epoch or 'full'} steps, (b)/(c) {args.measure_steps} steps, {args.workers} workers in (c), "
        f"median of {args.repeats} round(s)"
    )
    print(f"\n{caption}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    print(f"\nwritten: {args.out}", file=sys.stderr)
    if args.write:
        print(f"written: {write(args.write, results_table(rows, caption + '.'))}", file=sys.stderr)


if __name__ == "__main__":
    main()
