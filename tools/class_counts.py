"""How a run's samples fall into the classes: the per-class counts behind "classes covered".

    python tools/class_counts.py <run folder> [<run folder> ...]            # the samples a run scores
    python tools/class_counts.py <run folder> --trained                     # from the trained generator

The run's checkpoint draws the same `metrics.n_samples` samples `python -m gensweep.score <run>` scores (same
seed) and the dataset's classifier backbone labels each one; a class counts as covered with at least a fifth of
an even share. With --trained an adversarial run samples from its trained generator instead of the weight
average (the comparison docs/notes/recipes.md makes for the sandals the Wasserstein models drop).
"""

from __future__ import annotations

from pathlib import Path

import torch
from results import doc_parser

from gensweep.api import QualityMetrics, load_run_model, load_splits, run_config, validate


def class_counts(run: Path, trained: bool) -> tuple[list[int], dict[str, float]]:
    """Per-class counts of the run's scored samples, and their scores."""
    cfg = run_config(run, [])
    spec = validate(cfg)
    train, val = load_splits(cfg.dataset)
    quality = QualityMetrics(cfg.metrics, cfg.dataset, train, val, spec.n_classes, spec.device)
    model = load_run_model(run, cfg, spec)
    if trained and "generator_ema" in model.nets:
        del model.nets["generator_ema"]  # samples then come from the trained generator, with its own statistics
    images = quality.generate(model, seed=int(cfg.seed) + 1)
    with torch.no_grad():
        labels = quality.head(quality.features(images).float()).argmax(1)
    return torch.bincount(labels, minlength=int(cfg.dataset.n_classes)).tolist(), quality.evaluate_images(
        images, int(cfg.seed) + 1
    )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("runs", type=Path, nargs="+", help="run folders with a checkpoint.pt")
    parser.add_argument("--trained", action="store_true", help="sample the trained generator, not its average")
    args = parser.parse_args()
    for run in args.runs:
        counts, scores = class_counts(run, args.trained)
        print(f"{run}: counts {counts}  FID {scores['fid']:.2f}  classes covered {scores.get('classes_covered')}")


if __name__ == "__main__":
    main()
