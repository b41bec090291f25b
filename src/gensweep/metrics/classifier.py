"""The offline FID backbone: a small CNN classifier trained by gensweep on the dataset's own labels.

Its last feature map, average-pooled to 2x2 (512 features), plays the role Inception-v3's pool features
play in the standard FID, for data Inception was never trained on (16x16 digits) and on machines without
the Inception weights. Pooling to 2x2 rather than 1x1 keeps the coarse layout: with a global pool,
unstructured images (noise) land near the real images' centroid and score better than blurry digits. It is
trained once per set, size and channel count, cached beside the dataset cache with its test accuracy.
A set without class labels (CelebA) trains it on a label-free task instead: which of four rotations
(0, 90, 180, 270 degrees) an image was given (Gidaris et al., 2018), which needs the same shapes, poses and
textures that FID should compare. Figures from it compare runs with each other, not with papers (use
metrics.backbone=inception for that).
"""

from __future__ import annotations

import io
import logging
import math
import pickle
import zipfile
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gensweep.data.cache import CACHE_FIX
from gensweep.data.tensors import ImageTensors
from gensweep.files import atomic_write

log = logging.getLogger("gensweep")
VERSION = 3


class FeatureClassifier(nn.Module):
    """Four 3x3 conv blocks (three of them stride 2) to a 128-channel map, pooled to 2x2 (the FID features);
    the linear head reads the mean of the four cells (the global average).

    Small on purpose: it trains in seconds on CPU for 16x16 digits and in about a minute for MNIST.
    """

    channels = 128
    num_features = 4 * channels

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(channels, 32, 2),
            *block(32, 64, 2),
            *block(64, 128, 2),
            *block(128, self.channels, 1),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.classes = nn.Linear(self.channels, n_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] images -> (N, 512) features: the last map's 2x2 cell means, channel-major."""
        return self.body(images * 2 - 1)

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """Features -> class logits."""
        return self.classes(features.view(len(features), self.channels, 4).mean(2))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def _unit(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    return images.to(device).float().div_(255.0)


def rotated(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Each square image of x turned by its own number of quarter turns."""
    out = x.clone()
    for k in range(1, 4):
        chosen = turns == k
        if chosen.any():
            out[chosen] = torch.rot90(x[chosen], k, dims=(2, 3))
    return out


def task_batch(
    x: torch.Tensor, labels: torch.Tensor, task: str, turns: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of the classifier's task: the class labels, or the quarter turns applied."""
    if task == "labels":
        return x, labels.to(x.device)
    turns = turns.to(x.device)
    return rotated(x, turns), turns


@torch.no_grad()
def accuracy(
    net: FeatureClassifier, data: ImageTensors, device: torch.device, task: str, batch_size: int = 512
) -> float:
    net.eval()
    correct = 0
    for start, (images, labels) in zip(range(0, len(data), batch_size), data.batches(batch_size)):
        turns = torch.arange(start, start + len(images)) % 4  # every rotation equally often, fixed
        x, target = task_batch(_unit(images, device), labels, task, turns)
        correct += (net(x).argmax(1) == target).sum().item()
    return correct / max(1, len(data))


def train_classifier(
    train: ImageTensors,
    test: ImageTensors,
    n_classes: int,
    device: torch.device,
    max_steps: int,
    task: str = "labels",
    batch_size: int = 128,
) -> tuple[FeatureClassifier, float]:
    """Adam 1e-3 for min(max_steps, 10 epochs) steps; small random shifts as augmentation. Seeded, RNG-neutral.

    task="rotation" ignores the labels and predicts which of 4 quarter turns each image was given.
    """
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(0)
        net = FeatureClassifier(train.shape[0], n_classes if task == "labels" else 4).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        steps = min(max_steps, 10 * max(1, len(train) // batch_size))
        order = torch.Generator().manual_seed(0)
        done = 0
        net.train()
        while done < steps:
            for images, labels in train.batches(min(batch_size, len(train)), order, drop_last=True):
                x = _unit(images, device)
                pad = max(1, x.shape[-1] // 16)
                shift = torch.randint(-pad, pad + 1, (2,)).tolist()
                x = torch.roll(x, shifts=shift, dims=(2, 3))
                x, target = task_batch(x, labels, task, torch.randint(0, 4, (len(x),)))
                loss = F.cross_entropy(net(x), target)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                done += 1
                if done >= steps:
                    break
        return net.eval(), accuracy(net, test, device, task)


def load_or_train(
    path: Path, train: ImageTensors, test: ImageTensors, n_classes: int, device: torch.device, max_steps: int, task: str
) -> tuple[FeatureClassifier, float]:
    """The cached classifier at `path`, or a newly trained one saved there (with its test accuracy)."""
    outputs = n_classes if task == "labels" else 4
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, EOFError, RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
            log.warning("FID classifier %s is unreadable (%s): training it again", path, err)
            state = {}
        if state.get("version") == VERSION and state.get("outputs") == outputs and state.get("task") == task:
            net = FeatureClassifier(train.shape[0], outputs)
            net.load_state_dict(state["weights"])
            return net.to(device).eval(), float(state["accuracy"])
    log.info(
        "training the FID classifier once for this dataset (%s task, up to %d steps; cached as %s). "
        "metrics.backbone=none skips FID/KID",
        task,
        max_steps,
        path.name,
    )
    net, acc = train_classifier(train, test, n_classes, device, max_steps, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "version": VERSION,
        "task": task,
        "outputs": outputs,
        "accuracy": acc,
        "weights": {k: v.cpu() for k, v in net.state_dict().items()},
    }
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write(path, buf.getvalue(), CACHE_FIX)
    log.info("trained the FID classifier once (%s task): test accuracy %.2f%%, saved to %s", task, 100 * acc, path)
    if not math.isfinite(acc) or acc < 0.5:
        log.warning("the FID classifier reaches only %.1f%% test accuracy: its FID says little", 100 * acc)
    return net, acc
