"""Evidence that the divergence probe measures, written to docs/results/probe_<dataset>.md.

    python tools/probe_evidence.py --dataset fashion_mnist dataset.download=false
    python tools/probe_evidence.py --dataset fashion_mnist --runs RUN [RUN ...] dataset.download=false

1. The noise floor: real training images against real held-out images (both apart from the probe's
   references), for --seeds seeds: what every probe figure is read against.
2. A known distance: held-out images shifted by c in every pixel are at Wasserstein-1 distance c * sqrt(pixels)
   from the originals; probe_emd beside it.
3. With --runs (run folders trained with metrics.every=1, say): how each curve follows FID over the
   evaluations (Spearman's rho), how often the model's own estimate is below minus the floor's spread, and
   what the probe cost as a share of the run's wall time.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml
from omegaconf import OmegaConf
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import doc_parser, write  # noqa: E402

from gensweep.api import (  # noqa: E402
    DivergenceProbe,
    compose_config,  # noqa: E402
    load_splits,  # noqa: E402
    real_floor,
    real_stand_ins,
)

SHIFTS = (0.02, 0.05, 0.1, 0.2)


def floor_section(cfg, train, val, seeds: int) -> tuple[str, dict[str, float]]:
    rows, emds, jsds, seconds = [], [], [], []
    for seed in range(seeds):
        start = time.perf_counter()
        out = real_floor(cfg.metrics.probe, train, val, torch.device("cpu"), seed)
        seconds.append(time.perf_counter() - start)
        emds.append(out["probe_emd"])
        jsds.append(out["probe_jsd"])
        rows.append(f"| {seed} | {out['probe_emd']:.4f} | {out['probe_jsd']:.4f} |")
    spread = {"emd": statistics.stdev(emds), "jsd": statistics.stdev(jsds)}
    text = [
        "## Noise floor: real training images against real held-out images",
        "",
        "| seed | probe_emd | probe_jsd |",
        "|---|---|---|",
        *rows,
        f"| mean ± std | {statistics.fmean(emds):.4f} ± {spread['emd']:.4f} | "
        f"{statistics.fmean(jsds):.4f} ± {statistics.stdev(jsds):.4f} |",
        "",
        f"One probe (both critics) took {statistics.fmean(seconds):.1f} s on average.",
    ]
    return "\n".join(text), spread


def shift_section(cfg, train, val, budgets: list[int]) -> str:
    """The known-distance check at the default budget and at larger ones: the probe's own reference images
    shifted (P against P + c: W1 = c·√pixels exactly, for the samples as for the distribution), and other
    images shifted (the shift plus the finite-sample difference between two sets of real images)."""
    n_train, n_test = (
        min(int(cfg.metrics.probe.n_train), len(train) // 2),
        min(int(cfg.metrics.probe.n_test), len(val) // 2),
    )
    others_train, others_val = real_stand_ins(train, val, n_train, n_test)
    rows = []
    for steps in budgets:
        keys = {"steps": steps, "n_train": n_train, "n_test": n_test}
        probe = DivergenceProbe(OmegaConf.merge(cfg.metrics.probe, keys), train, val, torch.device("cpu"))
        for images, (shifted_train, shifted_val) in (
            ("the references", (probe.real_train, probe.real_test)),
            ("other images", (others_train, others_val)),
        ):
            for shift in SHIFTS:
                known = shift * math.sqrt(shifted_val[0].numel())
                out = probe.measure(shifted_train.float() / 255 + shift, shifted_val.float() / 255 + shift, seed=0)
                rows.append(
                    f"| {steps} | {images} | {shift} | {known:.3f} | {out['probe_emd']:.3f} | "
                    f"{100 * (out['probe_emd'] / known - 1):+.1f}% |"
                )
    return "\n".join(
        [
            "## A known Wasserstein-1 distance: images shifted by c in every pixel",
            "",
            "Shifted references: P against P + c, whose distance is c·√pixels for the samples too. "
            "Shifted other images: the shift plus the difference between two finite sets of real "
            "images, which the critic also fits in training and which does not carry over to held-out "
            "images; there probe_emd, a lower bound, reads less than c·√pixels.",
            "",
            "| steps | shifted | c | W1 = c·√pixels | probe_emd | error |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )


def _rho(xs: list[float], ys: list[float]) -> str:
    return f"{spearmanr(xs, ys).correlation:.3f}" if len(xs) > 2 and all(math.isfinite(y) for y in ys) else "-"


def runs_section(runs: list[Path], spread: dict[str, float]) -> str:
    rows = []
    for run in runs:
        summary = json.loads((run / "summary.json").read_text())
        with open(run / "metrics.csv", newline="") as f:
            evals = [r for r in csv.DictReader(f) if r.get("fid")]
        fid = [float(r["fid"]) for r in evals]
        probe = {k: [float(r[k]) if r.get(k) else math.nan for r in evals] for k in ("probe_emd", "probe_jsd")}
        own = next((k for k in ("emd", "jsd") if evals and evals[0].get(k)), None)
        own_values = [float(r[own]) for r in evals] if own else []
        negative, below = sum(v < 0 for v in own_values), sum(v < -spread.get(own, 0) for v in own_values)
        floor = summary.get("fid_real_floor") or math.nan
        per_epoch = summary["seconds_by_part"].get("steps", 0.0) / max(summary["epochs_completed"], 1)
        validation = summary["seconds_by_part"].get("validation", 0.0) / max(summary["epochs_completed"], 1)
        share = summary["seconds_by_part"].get("probe", 0.0) / summary["wall_seconds"]
        kept = [
            o
            for o in yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text())
            if not o.startswith(("model=", "hydra.", "dataset", "trainer.progress", "n_epochs"))
        ]
        model_cfg = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["model"]
        if "estimate_steps" in model_cfg and not any(o.startswith("model.estimate_steps=") for o in kept):
            kept.append(f"model.estimate_steps={model_cfg['estimate_steps']}")  # a default then may not be one now
        overrides = " ".join(kept)
        probe_cells = [
            f"{v[0]:.3f} → {v[-1]:.3f}, ρ {_rho(fid, v)}" if evals and math.isfinite(v[0]) else "-"
            for v in probe.values()
        ]
        rows.append(
            f"| {summary['model']} | `{overrides}` | {len(evals)} | "
            f"{fid[0]:.1f} → {fid[-1]:.1f} ({fid[-1] / floor:.1f}×) | "
            f"{evals[-1].get('classes_covered', '')} | {' | '.join(probe_cells)} | "
            f"{own or '-'}: {own_values[0]:.3f} → {own_values[-1]:.3f}, ρ {_rho(fid, own_values)}, "
            f"{negative} negative, {below} below −{spread.get(own, 0):.4f} | {per_epoch:.1f} s | {validation:.2f} s | "
            f"{100 * share:.1f}% |"
        )
    return "\n".join(
        [
            "## Runs: each curve against FID over the evaluations",
            "",
            "ρ: Spearman's rank correlation with FID over the evaluations (1: the curve falls exactly as FID falls). "
            "Own: the model's own estimate (jsd or emd) on its held-out batches: how many of its values are negative, "
            "and how many lie below minus the spread of the probe's floor in the same quantity (one standard deviation "
            "over the seeds above). s/epoch: training steps only. Validation: seconds per epoch of held-out "
            "validation, own estimate included (a WGAN's model.estimate_steps are spent there). "
            "Probe cost: its seconds as a share of the run's wall time.",
            "",
            "| model | overrides | evaluations | FID first → last (× floor) | classes at the end | probe_emd | "
            "probe_jsd | own estimate | s/epoch | validation | probe cost |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--name", default=None, help="the table's name under docs/results/ (default probe_<dataset>)")
    parser.add_argument(
        "--budgets", default="", help="larger probe budgets (steps) for the known-distance check, e.g. 1000"
    )
    parser.add_argument("--runs", nargs="*", type=Path, default=[])
    args, overrides = parser.parse_known_args()
    overrides += [str(a) for a in args.runs if "=" in str(a)]  # key=value after --runs is an override, not a run
    args.runs = [a for a in args.runs if "=" not in str(a)]
    cfg = compose_config([f"dataset={args.dataset}", *overrides])
    train, val = load_splits(cfg.dataset)
    floor, spread = floor_section(cfg, train, val, args.seeds)
    sections = [
        f"# The divergence probe on {args.dataset}",
        "",
        f"Probe settings: {dict(cfg.metrics.probe)}.",
        "",
        floor,
        "",
        shift_section(cfg, train, val, [int(cfg.metrics.probe.steps), *(int(b) for b in args.budgets.split(",") if b)]),
    ]
    if args.runs:
        sections += ["", runs_section(args.runs, spread)]
    path = write(args.name or f"probe_{args.dataset}", "\n".join(sections))
    print(path.read_text())


if __name__ == "__main__":
    main()
