"""`python -m gensweep.score WHAT [key=value ...]`: FID, KID (and with a labelled set IS and classes covered)
of WHAT against a dataset's held-out images, with the same backbone and settings a run uses, and the
divergence probe's probe_emd and probe_jsd (for a run, `train` and `noise`).

WHAT is a run folder (its checkpoint generates the samples; its saved config gives the dataset), a folder of
PNG/JPEG images, `train` (as many training images: the real-data floor) or `noise` (uniform noise images).
The key=value overrides are gensweep's config keys, e.g. `dataset=mnist metrics.backbone=inception`.

    python -m gensweep.score train dataset=mnist
    python -m gensweep.score noise dataset=mnist
    python -m gensweep.score outputs/runs/2026-11-25/15-00-00 metrics.n_samples=5000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from gensweep.config import compose_config, missing_keys, validate
from gensweep.errors import CheckpointError, ConfigError, DatasetError
from gensweep.files import CHECKPOINT


def run_config(run: Path, overrides: list[str]) -> DictConfig:
    """The config a run folder was trained with, with `overrides` merged on top;
    the model and dataset stay the run's own (overriding them is refused)."""
    saved = run / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise ConfigError(
            f"{run} has no .hydra/config.yaml: pass a gensweep run folder, an image folder, train or noise"
        )
    groups = [o for o in overrides if o.split("=", 1)[0] in ("model", "dataset")]
    if groups:
        raise ConfigError(
            f"{' '.join(groups)}: a run folder is scored on its own model and dataset; "
            "override their keys (e.g. metrics.n_samples=2000) or score an image folder instead"
        )
    cfg = OmegaConf.load(saved)
    lacking = missing_keys(cfg)
    if lacking:
        raise ConfigError(
            f"{run} was saved by another version of gensweep (its config lacks {', '.join(lacking[:3])}"
            f"{' ...' if len(lacking) > 3 else ''}); score a folder of its sample images instead"
        )
    cfg.merge_with_dotlist([o for o in overrides if "=" in o])
    return cfg


def score(what: str, overrides: list[str]) -> dict:
    from gensweep.data import load_splits
    from gensweep.data.image_files import decode_files, list_images
    from gensweep.metrics.probe import DivergenceProbe, real_floor
    from gensweep.metrics.quality import QualityMetrics

    path = Path(what).expanduser()
    is_run = path.is_dir() and (path / CHECKPOINT).is_file()
    if path.is_dir() and not is_run and any((path / n).exists() for n in (".hydra", "summary.json", "metrics.csv")):
        raise ConfigError(
            f"{path} is a run or sweep folder without a checkpoint.pt: nothing to generate samples "
            "from (pass a job folder that trained, or a folder of sample images)"
        )
    cfg = run_config(path, overrides) if is_run else compose_config(overrides)
    cfg.logger = {"csv": {}}  # scoring logs nothing: a run trained with logger=mlflow needs no mlflow here
    if cfg.metrics.backbone == "none":
        raise ConfigError("metrics.backbone=none scores nothing: use classifier or inception")
    spec = validate(cfg)
    train, val = load_splits(cfg.dataset)
    quality = QualityMetrics(cfg.metrics, cfg.dataset, train, val, spec.n_classes, spec.device)
    # the probe, unless it is off (steps=0)
    probe_cfg = cfg.metrics.probe
    probe = DivergenceProbe(probe_cfg, train, val, spec.device) if probe_cfg.steps > 0 else None
    probe_scores: dict[str, float] = {}
    if is_run:
        from gensweep.resume import load_run_model

        model = load_run_model(
            path,
            cfg,
            spec,
            fix="the run's .hydra/config.yaml does not describe this "
            "checkpoint; score a folder of its sample images instead",
        )
        images = quality.generate(model, seed=int(cfg.seed) + 1)
        if probe is not None:
            probe_scores = probe(model, seed=int(cfg.seed) + 2)  # the seed a run's trainer gives it
    elif what == "train":
        images = quality.floor_images  # the training images the floor is computed from
        if probe is not None:
            probe_scores = real_floor(probe_cfg, train, val, spec.device, seed=int(cfg.seed) + 2)
    elif what == "noise":
        images = torch.rand((quality.n, *train.shape), generator=torch.Generator().manual_seed(0))
        if probe is not None:
            noise = torch.rand((probe.n_train + probe.n_test, *train.shape), generator=torch.Generator().manual_seed(1))
            probe_scores = probe.measure(noise[: probe.n_train], noise[probe.n_train :], seed=int(cfg.seed) + 2)
    elif path.is_dir():
        files = list_images(path)
        if not files:
            raise DatasetError(
                f"{path} holds no .png/.jpg/.jpeg images: pass a folder of images, a run folder, train or noise"
            )
        if len(files) < 2:
            raise DatasetError(
                f"{path} holds {len(files)} image: FID and KID need at least 2 (use as many as metrics.n_samples)"
            )
        images = decode_files(files[: quality.n], train.shape[1], train.shape[0])
    else:
        raise ConfigError(f"{what}: not a run folder, an image folder, train or noise")
    images = images.float() / 255 if images.dtype == torch.uint8 else images
    seed = int(cfg.seed) + 1 if is_run else 0  # a run's KID subsets were drawn with seed + 1
    out = {
        "what": what,
        "images": len(images),
        "dataset": str(cfg.dataset.name),
        "backbone": quality.backbone_name,
        "real_floor_fid": round(quality.real_fid, 4),
    }
    scores = {**quality.evaluate_images(images, seed=seed), **probe_scores}
    out.update({k: round(v, 6) if isinstance(v, float) else v for k, v in scores.items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gensweep.score",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("what", help="a run folder, an image folder, train or noise")
    parser.add_argument("overrides", nargs="*", help="gensweep config keys, e.g. dataset=mnist metrics.n_samples=2000")
    args = parser.parse_args()
    try:
        result = score(args.what, args.overrides)
    except (ConfigError, DatasetError, CheckpointError, HydraException) as err:
        sys.exit(f"gensweep.score: error: {err}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
