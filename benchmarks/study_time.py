"""Expected wall time of a study's full sweep, from real training steps of each of its runs.

    python benchmarks/study_time.py s1_depth                  # CPU
    python benchmarks/study_time.py s2_latent_width --device cuda
    python benchmarks/study_time.py all

For every job of the study's sweep (its experiment's sweeper params expanded), the script builds that job's
model at the dataset's real image size, times `--steps` training steps on a random batch after one warm-up
step, and extrapolates: steps per epoch (the dataset's real training size / batch) x n_epochs x seconds per
step, plus 5% for what the trainer does besides steps (validation, grids, checkpoints, FID every 5 epochs:
measured at 1-5% by benchmarks/bench.py). Not the CAE's (and a `model.sampler=gmm` VAE's) latent-mixture refit
before each epoch's sample grid, which takes tenths of a second warm-started (docs/results/mixture_fit.md).
Data preparation and the FID classifier's one-off training are left out. Jobs run
one after another on the basic launcher; the total divides by the jobs run at once with hydra/launcher=joblib
(on several GPUs) or slurm.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from gensweep.api import sweep_jobs, write_csv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from results import doc_parser  # noqa: E402

EXPERIMENTS = Path(__file__).resolve().parents[1] / "conf" / "experiment"
# Training images per dataset (the splits gensweep trains on).
TRAIN_SIZE = {
    "mnist": 60000,
    "fashion_mnist": 60000,
    "cifar10": 50000,
    "svhn": 73257,
    "celeba": 162770,
    "zappos50k": 45022,
    "digits": 1438,
}


def seconds_per_step(overrides: list[str], device: str, steps: int) -> tuple[float, dict]:
    from hydra import compose, initialize_config_module

    from gensweep.api import build_model, validate

    with initialize_config_module(config_module="gensweep.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*overrides, f"device={device}"])
    spec = validate(cfg)
    shape = (int(cfg.dataset.channels), int(cfg.dataset.image_size), int(cfg.dataset.image_size))
    torch.manual_seed(0)
    model = build_model(cfg, spec, shape, max(int(cfg.dataset.n_classes), 1))
    model.train()
    batch = spec.batch_size
    x = model.to_input(torch.randint(0, 256, (batch, *shape), dtype=torch.uint8))
    y = torch.randint(0, max(int(cfg.dataset.n_classes), 1), (batch,), device=model.device)
    model.train_step(x, y)  # warm-up
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_step(x, y)
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
    per_step = (time.perf_counter() - start) / steps
    return per_step, {"dataset": str(cfg.dataset.name), "epochs": spec.n_epochs, "batch": batch}


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("study", help="an experiment name (s1_depth, ...) or all")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per job")
    parser.add_argument("--csv", type=Path, default=None, help="also write the table's rows to this CSV file")
    args = parser.parse_args()
    rows = []
    studies = sorted(p.stem for p in EXPERIMENTS.glob("*.yaml")) if args.study == "all" else [args.study]
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"{name}, torch {torch.__version__}\n\n"
        "| study | runs | expected wall, one run at a time | longest run |\n|---|---|---|---|"
    )
    for study in studies:
        total, longest = 0.0, 0.0
        runs = sweep_jobs(study)
        for overrides in runs:
            per_step, info = seconds_per_step([f"experiment={study}", *overrides], args.device, args.steps)
            run = 1.05 * per_step * (TRAIN_SIZE[info["dataset"]] // info["batch"]) * info["epochs"]
            total += run
            longest = max(longest, run)
            print(
                f"  {study} {' '.join(overrides)}: {per_step * 1000:.0f} ms/step, {run / 3600:.2f} h", file=sys.stderr
            )
        print(f"| {study} | {len(runs)} | {total / 3600:.1f} h | {longest / 3600:.1f} h |", flush=True)
        rows.append(
            {
                "device": name,
                "study": study,
                "runs": len(runs),
                "hours_one_at_a_time": round(total / 3600, 2),
                "longest_run_hours": round(longest / 3600, 2),
            }
        )
        if args.csv:  # after every study: a time limit leaves the rows finished so far
            write_csv(args.csv, rows)


if __name__ == "__main__":
    main()
