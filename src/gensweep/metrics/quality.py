"""FID, KID, classifier Inception Score and class coverage of a model's samples against held-out images.

Features are extracted once per image set with the chosen backbone; the held-out images' features and
Gaussian statistics are computed once per run, the samples' at each evaluation.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch
from omegaconf import DictConfig

from gensweep.data.location import cache_path
from gensweep.data.tensors import ImageTensors
from gensweep.metrics.fid import frechet_distance, gaussian_stats, kernel_distance, psd_sqrt
from gensweep.metrics.references import FLOOR, HELD_OUT, generate, reference_indices
from gensweep.models.base import GenerativeModel

log = logging.getLogger("gensweep")


def inception_score(logits: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))) over all samples in one split (Salimans et al., 2016)."""
    log_p = logits.double().log_softmax(1)
    log_marginal = log_p.exp().mean(0).log()
    return float((log_p.exp() * (log_p - log_marginal)).sum(1).mean().exp())


class QualityMetrics:
    """Scores samples of a model on `n = min(n_samples, len(val))` generated vs `n` held-out real images, a
    seeded random sample of the held-out split (metrics/references.py), the same for every run of a dataset.

    Backbones: "classifier" (gensweep's own, trained on the class labels, or on rotations for a set without
    labels) or "inception" (the standard FID network). Inception Score and class coverage come with a
    classifier trained on class labels only.
    """

    def __init__(
        self,
        cfg: DictConfig,
        data_cfg: DictConfig,
        full_train: ImageTensors,
        val: ImageTensors,
        n_classes: int,
        device: torch.device,
    ) -> None:
        start = time.perf_counter()
        self.device = device
        self.n = min(int(cfg.n_samples), len(val))
        self.n_classes = n_classes
        self.batch_size = 256
        self.kid_subsets = int(cfg.kid_subsets)
        self.kid_subset_size = min(1000, self.n)
        self.classifier_accuracy: float | None = None
        self.classifier_task: str | None = None
        self.labelled = False
        if cfg.backbone == "classifier":
            from gensweep.metrics.classifier import load_or_train

            task = "labels" if n_classes >= 2 else "rotation"
            classifier, self.classifier_accuracy = load_or_train(
                # keyed by its training steps too: runs with other metrics.classifier_steps never share one
                cache_path(
                    data_cfg,
                    f"classifier-{task}{n_classes if task == 'labels' else 4}-{int(cfg.classifier_steps)}steps",
                ),
                full_train,
                val,
                n_classes,
                device,
                int(cfg.classifier_steps),
                task,
            )
            self.backbone_name = "classifier" if task == "labels" else "classifier-rotation"
            self.classifier_task = task
            self.labelled = task == "labels"
            self.head = classifier.head
            self.backbone = classifier.features
        else:
            from gensweep.metrics.inception import InceptionFeatures

            self.backbone_name = "inception"
            self.backbone = InceptionFeatures(cfg.get("inception_weights")).to(device).eval()
        self.real = self.features(val.images[reference_indices(len(val), self.n, HELD_OUT)])
        self.real_stats = gaussian_stats(self.real)
        self.real_root = psd_sqrt(self.real_stats[1])
        # The floor: FID of as many training images, drawn at random, against the same held-out ones.
        self.floor_images = full_train.images[reference_indices(len(full_train), self.n, FLOOR)]
        self.real_fid = self._fid(self.features(self.floor_images))
        self.setup_seconds = time.perf_counter() - start
        log.info(
            "FID/KID backbone %s%s: real-data floor FID %.3f on %d images (%.1fs)",
            self.backbone_name,
            "" if self.classifier_accuracy is None else f" (test accuracy {100 * self.classifier_accuracy:.1f}%)",
            self.real_fid,
            self.n,
            self.setup_seconds,
        )

    @property
    def columns(self) -> list[str]:
        extra = ["inception_score", "classes_covered"] if self.labelled else []
        return ["fid", "kid", *extra]

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 or [0, 1] float images -> backbone features (float64), in batches."""
        out = []
        for start in range(0, len(images), self.batch_size):
            x = images[start : start + self.batch_size].to(self.device)
            x = x.float() / 255 if x.dtype == torch.uint8 else x
            out.append(self.backbone(x).double())
        return torch.cat(out)

    def _fid(self, features: torch.Tensor) -> float:
        return frechet_distance(*self.real_stats, *gaussian_stats(features), root1=self.real_root)

    def generate(self, model: GenerativeModel, seed: int) -> torch.Tensor:
        """n samples from fixed noise (and, for conditional models, classes in turn): comparable across epochs."""
        return generate(model, self.n, seed, self.batch_size)

    @torch.no_grad()
    def evaluate_images(self, images: torch.Tensor, seed: int) -> dict[str, float]:
        """Scores of [0, 1] images (generated ones, or noise and real ones in tests). Uses no global RNG."""
        features = self.features(images)
        out = {"fid": self._fid(features)}
        out["kid"] = kernel_distance(
            self.real, features, self.kid_subsets, self.kid_subset_size, torch.Generator().manual_seed(seed)
        )[0]
        if self.labelled:
            logits = self.head(features.float())
            out["inception_score"] = inception_score(logits)
            counts = torch.bincount(logits.argmax(1), minlength=self.n_classes)
            # a class counts as covered when it gets at least a fifth of a uniform share of the samples
            out["classes_covered"] = int((counts >= max(1.0, 0.2 * len(images) / self.n_classes)).sum())
        return out

    def summary(self, evaluation_seconds: float) -> dict[str, Any]:
        """What a run's summary.json says about its scoring: the backbone, its accuracy and real-data floor,
        and the seconds it cost (setting it up, the real images' features, plus `evaluation_seconds`)."""
        return {
            "fid_backbone": self.backbone_name,
            "fid_samples": self.n,
            "classifier_accuracy": self.classifier_accuracy,
            "fid_real_floor": round(self.real_fid, 4),
            "metrics_seconds": round(self.setup_seconds + evaluation_seconds, 3),
        }

    def __call__(self, model: GenerativeModel, seed: int) -> dict[str, float]:
        return self.evaluate_images(self.generate(model, seed), seed)
