"""What every model is to the trainer: its networks, optimizers, one training step and an evaluation.

The trainer never looks inside a model. It hands over float batches in the model's own value range
(`to_input`), averages whatever `train_step` and `evaluate` return, asks `estimates` for the derived
columns (JSD, EMD), draws sample grids with `sample`, and checkpoints through `training_state`.

A model is an `nn.Module`: its networks sit in the `nets` ModuleDict and any statistics it keeps (the CAE's
latent codes, the GAN's step counters) in buffers or its extra state, so PyTorch's `state_dict`, `train()`
and `eval()` cover all of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import torch
import torch.nn as nn

PRECISIONS = {"32": None, "bf16": torch.bfloat16, "16-mixed": torch.float16}


class GenerativeModel(nn.Module):
    """Base class. Subclasses call `super().__init__` first, then build `self.nets` and set their fields;
    `build_optimizers` runs on first use of `optims`, after the whole model exists."""

    name: ClassVar[str]
    # Value range the networks see and produce: "unit" = [0, 1] (BCE / MSE decoders), "symmetric" = [-1, 1]
    # (tanh generators; the same as normalising with mean 0.5 and std 0.5).
    value_range: ClassVar[str] = "unit"
    # Network family (gensweep.models.nets): the class's default, which model.arch overrides where a model reads it.
    arch: str = "conv"
    conditional: ClassVar[bool] = False
    # Names returned by train_step / evaluate / estimates; metrics.csv gets train_<n>, val_<n> and <n> columns.
    train_metrics: ClassVar[tuple[str, ...]]
    val_metrics: ClassVar[tuple[str, ...]]
    estimate_names: ClassVar[tuple[str, ...]] = ()
    # curves.png panels: (y-axis label, metrics.csv columns drawn on it).
    curves: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]]

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        n_classes: int,
        z_dim: int,
        n_layers: int,
        width: int,
        lr: float,
        device: torch.device,
    ) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.n_classes = n_classes
        self.z_dim = z_dim
        self.n_layers = n_layers
        self.width = width
        self.lr = lr
        self.device = device
        self.nets = nn.ModuleDict()
        self._optims: dict[str, torch.optim.Optimizer] | None = None
        self.amp_dtype: torch.dtype | None = None  # autocast dtype of train_step (None: float32)
        self.scaler: torch.amp.GradScaler | None = None  # float16 only: keeps small gradients from underflowing
        self.memory_format = torch.contiguous_format

    @classmethod
    def check_keys(cls, model: Mapping[str, Any]) -> None:
        """Refuse a bad value of this model's own keys (`model.*`) with one line (ConfigError). Each class checks
        the keys its constructor adds, then hands the rest to its parent's check; model.arch, which decides
        n_layers, is checked by gensweep.config.validate."""

    # --- speed options (the trainer's precision / channels_last / compile keys) ---------------------------
    def accelerate(self, precision: str = "32", channels_last: bool = False, compile: bool = False) -> list[str]:
        """Switch on the speed options; returns what was applied, in words, for the run's log."""
        applied = []
        self.amp_dtype = PRECISIONS[precision]
        if self.amp_dtype is not None:
            applied.append(f"autocast {precision}")
        if self.amp_dtype == torch.float16:
            self.scaler = torch.amp.GradScaler(self.device.type)
        if channels_last and self.arch == "conv":
            self.memory_format = torch.channels_last
            for net in self.nets.values():
                net.to(memory_format=torch.channels_last)
            applied.append("channels-last")
        if compile:
            for name in self.compilable():
                self.nets[name].compile()  # in place: state_dict keys, and so checkpoints, stay the same
            applied.append(f"torch.compile ({', '.join(self.compilable())})")
        return applied

    def n_parameters(self) -> int:
        """Parameters of all the model's networks (what its weights, gradients and optimizer state scale with)."""
        return sum(p.numel() for p in self.nets.parameters())

    def compilable(self) -> list[str]:
        """Networks torch.compile may wrap (not those that need double backward, which it cannot do)."""
        return list(self.nets)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The model's optimizers by name (what `optimize` steps and a checkpoint keeps)."""
        raise NotImplementedError

    @property
    def optims(self) -> dict[str, torch.optim.Optimizer]:
        if self._optims is None:
            self._optims = self.build_optimizers()
        return self._optims

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Mixed precision around a training step's forward passes, when `precision` asks for it."""
        with torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        ):
            yield

    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """One update of optimizer `name` on `loss`: backward outside autocast, loss scaling for float16."""
        opt = self.optims[name]
        opt.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, enabled=False):
            if self.scaler is None:
                loss.backward()
                opt.step()
            else:
                self.scaler.scale(loss).backward()
                self.scaler.step(opt)
                self.scaler.update()

    # --- data -------------------------------------------------------------------------------------------
    def to_input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images -> float in the model's value range, on the model's device.

        Scaling the uint8 tensor converts it in the same pass: one or two passes over the batch, not four."""
        images = images.to(self.device, non_blocking=True)
        x = images.mul(2.0 / 255.0).sub_(1.0) if self.value_range == "symmetric" else images.mul(1.0 / 255.0)
        if self.memory_format is not torch.contiguous_format:
            x = x.contiguous(memory_format=self.memory_format)
        return x

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Model-range images -> [0, 1] for saving."""
        return ((x + 1.0) / 2.0 if self.value_range == "symmetric" else x).clamp(0.0, 1.0)

    # --- training ---------------------------------------------------------------------------------------
    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimisation step on a batch; returns detached 0-d tensors (no device sync per step).

        Runs its forward passes in `self.autocast()` and its updates through `self.optimize`."""
        raise NotImplementedError

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Held-out losses for one batch (called under no_grad with the networks in eval mode)."""
        raise NotImplementedError

    def schedule_warning(self, n_batches: int) -> str | None:
        """Why `n_batches` more training steps would leave part of the model untrained (the trainer warns), or None."""
        return None

    def estimates(self, val: dict[str, float]) -> dict[str, float]:
        """Quantities derived from the epoch's averaged validation metrics (JSD, EMD)."""
        return {}

    @contextlib.contextmanager
    def estimating(self, batches: Iterator[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[None]:
        """Around one validation: a model whose estimates need more than its trained state (the WGAN's
        critic topped up towards its optimum) prepares it here from `batches` of training data, an endless
        stream of (float input, label) batches; nothing it does may change training."""
        yield

    # --- images -----------------------------------------------------------------------------------------
    def sample_inputs(self, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """Fixed inputs for the per-epoch sample grid: (z, labels or None, images per row).

        8x8 unconditional samples; conditional models get one row of 8 per class.
        """
        if self.conditional:
            labels = torch.arange(self.n_classes).repeat_interleave(8)
            return torch.randn(len(labels), self.z_dim, generator=generator), labels, 8
        return torch.randn(64, self.z_dim, generator=generator), None, 8

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latent codes as the model's own decoder/generator reads them -> [0, 1] images."""
        raise NotImplementedError

    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Standard-normal noise -> [0, 1] samples (the generator's or the VAE prior's)."""
        return self.decode(z, labels)

    def encode(self, x: torch.Tensor) -> torch.Tensor | None:
        """Latent codes of model-range images (the mean for a VAE), or None for models without an encoder."""
        return None

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor | None:
        """[0, 1] reconstructions of model-range images, or None for models without an encoder."""
        z = self.encode(x)
        return None if z is None else self.decode(z)

    # --- checkpoints ------------------------------------------------------------------------------------
    def training_state(self) -> dict[str, Any]:
        """Everything a checkpoint keeps: weights, buffers and counters (state_dict), optimizers, loss scaler."""
        return {
            "weights": self.state_dict(),
            "optims": {k: v.state_dict() for k, v in self.optims.items()},
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
        }

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.load_state_dict(state["weights"])
        for k, opt in self.optims.items():
            opt.load_state_dict(state["optims"][k])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
