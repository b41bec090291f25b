"""The README's quality table: every model trained on one dataset for a fixed number of epochs, scored with
gensweep's FID/KID backbone and the divergence probe, beside the real data's own scores (the floor) and pure
noise (the ceiling); written to docs/results/quality_<name>.md (name: --name, default the dataset).

    python tools/quality_table.py                       # digits, 30 epochs, CPU: about 10 minutes on 2 cores
    python tools/quality_table.py --dataset mnist --epochs 20 --device cuda
    python tools/quality_table.py --dataset fashion_mnist --epochs 20 --jobs 2 --peers dataset.download=false
    python tools/quality_table.py --dataset cifar10 --name photo_crops --epochs 20 --peers \
        dataset.root=data/photo_crops dataset.download=false dataset.subset=10000

It runs one gensweep multirun over the models (so the sweep's own report/ holds runs.csv and the side-by-side
sample grids; --jobs N runs N at once on the joblib launcher), scores the floor and the noise rows with the
same metric settings, prints a Markdown table, writes it to docs/results/ and copies the side-by-side samples
to docs/images/quality_<name>.png. Each run's row gives its FID at every evaluation, its final FID as a
multiple of the floor and the first epoch whose samples cover every class. --peers also trains the published
GAN recipes of tools/peer_gans.py that fit the images' shape for as many epochs on the same images and
scores their samples at the same epochs.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_gans import RECIPES  # noqa: E402
from results import doc_parser, write  # noqa: E402

MODELS = ("vae", "cae", "gan", "wgan", "wgan_gp", "dcgan", "cdcgan")
SCORES = ("fid", "kid", "inception_score", "classes_covered", "probe_emd", "probe_jsd")
ROOT = Path(__file__).resolve().parent.parent


def reference_rows(dataset: str, extra: list[str]) -> list[dict[str, str]]:
    """FID/KID of real training images (the floor) and of uniform noise, through `python -m gensweep.score`'s
    own function, so they are scored exactly as the runs were."""
    from gensweep.api import score

    rows = []
    for what, name in (("train", "real training images (floor)"), ("noise", "uniform noise")):
        scores = score(what, [f"dataset={dataset}", *extra])
        rows.append(
            {
                "model": name,
                **{
                    k: f"{scores[k]:.4g}" if isinstance(scores[k], float) else str(scores[k])
                    for k in SCORES
                    if k in scores
                },
            }
        )
    rows[0]["note"] = f"backbone {scores['backbone']}, {scores['images']} images"
    return rows


def n_classes(job: Path) -> int:
    """The dataset's class count, from the run's saved config (0 for a set without labels)."""
    from omegaconf import OmegaConf

    return int(OmegaConf.load(job / ".hydra" / "config.yaml").dataset.get("n_classes") or 0)


def peer_rows(
    dataset: str, epochs: int, at: list[int], classes: int, extra: list[str], train: bool
) -> list[dict[str, str]]:
    """Train tools/peer_gans.py's recipes as long on the same images (train=False: use the samples they saved
    last time); score their samples at the same epochs."""
    from gensweep.api import score

    out = ROOT / "outputs" / "peers"
    command = [
        sys.executable,
        str(ROOT / "tools" / "peer_gans.py"),
        f"--dataset={dataset}",
        f"--epochs={epochs}",
        f"--save-epochs={','.join(map(str, at))}",
        f"--out={out}",
        *extra,
    ]
    if train:
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    elif not any((out / dataset / r / f"epoch_{at[0]:03d}").is_dir() for r in RECIPES):
        sys.exit(f"--no-train --peers: no peer samples in {out / dataset}; run once without --no-train")
    rows = []
    for recipe in RECIPES:
        # the evaluation epochs it saved samples at: all of them, or (peer_gans.py run apart for fewer
        # epochs, as a slow recipe on a CPU) the first few; none when it does not fit the images
        reached = [e for e in at if (out / dataset / recipe / f"epoch_{e:03d}").is_dir()]
        if not reached:
            continue
        scores = [
            score(str(out / dataset / recipe / f"epoch_{e:03d}"), [f"dataset={dataset}", *extra]) for e in reached
        ]
        last, floor = scores[-1], scores[-1]["real_floor_fid"]
        full = [e for e, s in zip(reached, scores) if s.get("classes_covered") == classes]
        short = f", trained to epoch {reached[-1]} of {at[-1]}" if reached[-1] != at[-1] else ""
        rows.append(
            {
                "model": f"peer: {recipe} (tools/peer_gans.py{short})",
                "fid": f"{last['fid']:.4g}",
                "x_floor": f"{last['fid'] / floor:.1f}",
                "kid": f"{last['kid']:.4g}",
                "inception_score": f"{last.get('inception_score', 0):.3g}",
                "classes_covered": str(last.get("classes_covered", "")),
                "fid_by_epoch": " / ".join(f"{s['fid']:.0f}" for s in scores),
                "classes_by_epoch": " / ".join(str(s.get("classes_covered", "")) for s in scores),
                "first_all_classes": str(full[0]) if full else "never",
            }
        )
    return rows


def train_all(sweep: Path, args: argparse.Namespace, extra: list[str]) -> None:
    """One gensweep multirun over the models into `sweep` (an earlier sweep of this script there is replaced)."""
    if sweep.exists():
        if not (sweep / "multirun.yaml").is_file():
            sys.exit(f"{sweep} exists and is not an earlier sweep of this script: choose another --out")
        shutil.rmtree(sweep)
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.jobs}"] if args.jobs > 1 else []
    command = [
        sys.executable,
        "-m",
        "gensweep",
        f"model={args.models}",
        f"dataset={args.dataset}",
        f"n_epochs={args.epochs}",
        f"device={args.device}",
        "trainer.progress=false",
        f"hydra.sweep.dir={sweep}",
        *launcher,
        *extra,
        "-m",
    ]
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=False)
    print(f"sweep took {time.perf_counter() - start:.0f}s", flush=True)


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--name",
        default=None,
        help="names the table, image and sweep folder (default: the dataset), "
        "e.g. photo_crops for a set read as dataset=cifar10",
    )
    parser.add_argument("--out", type=Path, default=None, help="sweep folder (default outputs/quality/<name>)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at once (joblib launcher, one thread each: pip install -e '.[cluster]')",
    )
    parser.add_argument("--peers", action="store_true", help="add the published GAN recipes' rows (tools/peer_gans.py)")
    parser.add_argument(
        "--no-train",
        action="store_true",
        help="rebuild the table from the sweep already in --out (and, with --peers, their saved samples)",
    )
    args, extra = parser.parse_known_args()
    name = args.name or args.dataset
    sweep = (args.out or ROOT / "outputs" / "quality" / name).resolve()
    if args.no_train:
        if not (sweep / "report" / "runs.csv").is_file():
            sys.exit(f"--no-train: {sweep} holds no finished sweep of this script (no report/runs.csv)")
    else:
        train_all(sweep, args, extra)

    with open(sweep / "report" / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    table, eval_epochs, classes = [], [], 0
    for run in runs:
        summary = json.loads((sweep / run["job"] / "summary.json").read_text())
        final = summary.get("final", {})
        wall = max(summary.get("wall_seconds", 0), 1e-9)
        share = summary.get("metrics_seconds", 0) / wall
        probe_share = summary.get("seconds_by_part", {}).get("probe", 0) / wall
        with open(sweep / run["job"] / "metrics.csv", newline="") as f:
            evals = [r for r in csv.DictReader(f) if r.get("fid")]
        floor = summary.get("fid_real_floor")
        classes = n_classes(sweep / run["job"])
        full = [int(r["epoch"]) for r in evals if r.get("classes_covered") and int(r["classes_covered"]) == classes]
        eval_epochs = eval_epochs or [int(r["epoch"]) for r in evals]  # every run is scored at the same epochs
        table.append(
            {
                "model": run["model"],
                "status": run["status"],
                "fid": f"{final['fid']:.4g}" if "fid" in final else "",
                "kid": f"{final['kid']:.4g}" if "kid" in final else "",
                "inception_score": f"{final['inception_score']:.3g}" if "inception_score" in final else "",
                "classes_covered": str(final.get("classes_covered", "")),
                **{k: f"{final[k]:.3g}" for k in ("probe_emd", "probe_jsd") if k in final},
                "fid_by_epoch": " / ".join(f"{float(r['fid']):.0f}" for r in evals),
                "classes_by_epoch": " / ".join(r.get("classes_covered", "") for r in evals),
                "x_floor": f"{final['fid'] / floor:.1f}" if "fid" in final and floor else "",
                "first_all_classes": str(full[0]) if full else "never",
                "note": f"{summary.get('train_seconds', 0):.0f}s training; FID/KID {100 * share:.1f}%, probe "
                f"{100 * probe_share:.1f}% of wall time",
            }
        )
    if args.peers:
        table += peer_rows(args.dataset, args.epochs, eval_epochs, classes, extra, train=not args.no_train)
    table += reference_rows(args.dataset, [f"device={args.device}", *extra])  # scored with the same settings

    columns = [
        "model",
        "fid",
        "x_floor",
        "probe_emd",
        "probe_jsd",
        "kid",
        "inception_score",
        "classes_covered",
        "fid_by_epoch",
        "classes_by_epoch",
        "first_all_classes",
        "note",
    ]
    import yaml

    task = yaml.safe_load((sweep / "multirun.yaml").read_text())["hydra"]["overrides"]["task"]
    lines = [
        f"The runs: `python -m gensweep {' '.join(task)} -m` (one thread each).",
        "",
        f"{args.dataset}, {args.epochs} epochs, device {args.device}, seed 0. FID, KID and the probe against a "
        "seeded random sample of the held-out split; the floor row: random training images (the probe's: "
        "training images against held-out images, both apart from its references).",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(row.get(c, "") for c in columns) + " |" for row in table]
    print("\n" + "\n".join(lines))
    print(f"\ntable: {write(f'quality_{name}', chr(10).join(lines))}")
    samples = sweep / "report" / "samples.png"
    if samples.is_file():
        target = ROOT / "docs" / "images" / f"quality_{name}.png"
        shutil.copy(samples, target)
        print(f"\nsample grids: {target}")


if __name__ == "__main__":
    main()
