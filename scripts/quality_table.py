"""The README's quality table: every model trained on one dataset for a fixed number of epochs, scored with
gensweep's FID/KID backbone, beside the real data's own FID (the floor) and pure noise (the ceiling).

    python scripts/quality_table.py                       # digits, 30 epochs, CPU: about 10 minutes on 2 cores
    python scripts/quality_table.py --dataset mnist --epochs 20 --device cuda

It runs one gensweep multirun over the models (so the sweep's own report/ holds runs.csv and the side-by-side
sample grids), scores the floor and the noise rows with the same metric settings, prints a Markdown table
and copies the side-by-side samples to docs/images/quality_<dataset>.png.
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

MODELS = ("vae", "cae", "gan", "wgan", "wgan_gp", "dcgan", "cdcgan")
ROOT = Path(__file__).resolve().parent.parent


def reference_rows(dataset: str, extra: list[str]) -> list[dict[str, str]]:
    """FID/KID of real training images (the floor) and of uniform noise, through `python -m gensweep.score`'s
    own function, so they are scored exactly as the runs were."""
    from gensweep.score import score

    rows = []
    for what, name in (("train", "real training images (floor)"), ("noise", "uniform noise")):
        scores = score(what, [f"dataset={dataset}", *extra])
        rows.append({"model": name, **{k: f"{scores[k]:.4g}" if isinstance(scores[k], float) else str(scores[k])
                                       for k in ("fid", "kid", "inception_score", "classes_covered") if k in scores}})
    rows[0]["note"] = f"backbone {scores['backbone']}, {scores['images']} images"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", type=Path, default=None, help="sweep folder (default outputs/quality/<dataset>)")
    args, extra = parser.parse_known_args()
    sweep = (args.out or ROOT / "outputs" / "quality" / args.dataset).resolve()
    if sweep.exists():
        if not (sweep / "multirun.yaml").is_file():
            sys.exit(f"{sweep} exists and is not an earlier sweep of this script: choose another --out")
        shutil.rmtree(sweep)
    command = [sys.executable, "-m", "gensweep", f"model={args.models}", f"dataset={args.dataset}",
               f"n_epochs={args.epochs}", f"device={args.device}", "trainer.progress=false",
               f"hydra.sweep.dir={sweep}", *extra, "-m"]
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=False)
    print(f"sweep took {time.perf_counter() - start:.0f}s", flush=True)

    with open(sweep / "report" / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    table = []
    for run in runs:
        summary = json.loads((sweep / run["job"] / "summary.json").read_text())
        final = summary.get("final", {})
        share = summary.get("metrics_seconds", 0) / max(summary.get("wall_seconds", 0), 1e-9)
        table.append({
            "model": run["model"], "status": run["status"],
            "fid": f"{final['fid']:.4g}" if "fid" in final else "", "kid": f"{final['kid']:.4g}" if "kid" in final else "",
            "inception_score": f"{final['inception_score']:.3g}" if "inception_score" in final else "",
            "classes_covered": str(final.get("classes_covered", "")),
            "note": f"{summary.get('train_seconds', 0):.0f}s training, metrics {100 * share:.1f}% of wall time",
        })
    table += reference_rows(args.dataset, [f"device={args.device}", *extra])  # scored with the same settings

    columns = ["model", "fid", "kid", "inception_score", "classes_covered", "note"]
    print(f"\n{args.dataset}, {args.epochs} epochs, device {args.device}, seed 0\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in table:
        print("| " + " | ".join(row.get(c, "") for c in columns) + " |")
    samples = sweep / "report" / "samples.png"
    if samples.is_file():
        target = ROOT / "docs" / "images" / f"quality_{args.dataset}.png"
        shutil.copy(samples, target)
        print(f"\nsample grids: {target}")


if __name__ == "__main__":
    main()
