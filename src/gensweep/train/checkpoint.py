"""checkpoint.pt: everything needed to continue a run exactly where its last finished epoch left it."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from gensweep.errors import CheckpointError
from gensweep.files import atomic_write


def save(path: Path, state: dict[str, Any]) -> None:
    """Serialised in memory first, so that a write that fails can say how much space it needed."""
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write(path, buf.getvalue())


def save_run(
    path: Path,
    epoch: int,
    step: int,
    seconds: float,
    identity: dict[str, Any],
    model: Any,
    order: torch.Generator,
    partial: dict[str, Any] | None,
) -> None:
    """A run's state after a finished `epoch`; with `partial`, in the middle of epoch + 1 (its state so far,
    including the batch order that epoch was drawn from)."""
    save(
        path,
        {
            "epoch": epoch,
            "step": step,
            "seconds": seconds,
            "identity": identity,
            "model": model.training_state(),
            "order": order.get_state() if partial is None else partial["order"],
            "rng": rng_state(),
            "partial": partial,
        },
    )


def restore_run(path: Path, identity: dict[str, Any], model: Any, order: torch.Generator) -> dict[str, Any]:
    """Load the checkpoint at `path` into `model`, the batch order and the random state; returns it (epoch,
    step, seconds, partial) for the trainer to continue from."""
    state = load(path)
    restore_model(path, state, identity, model)
    order.set_state(state["order"])
    set_rng_state(state["rng"])
    return state


def load(path: Path) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {err}); "
            "move it away (or start without resume=...) to train from scratch"
        ) from err
    if not isinstance(state, dict) or "epoch" not in state or "model" not in state:
        raise CheckpointError(f"{path} is not a gensweep checkpoint; start without resume=... to train from scratch")
    return state


RESUME_FIX = "start a fresh run without resume=..."


def restore_model(
    path: Path, state: dict[str, Any], identity: dict[str, Any], model: Any, fix: str = RESUME_FIX
) -> None:
    """Load `state` (read from `path`) into `model`, or say in one line why it belongs to another run: other
    settings (its identity differs) or another layout of the same model (an older recipe of this version)."""
    if state.get("identity") != identity:
        theirs = " ".join(f"{k}={v}" for k, v in sorted(state.get("identity", {}).items()))
        ours = " ".join(f"{k}={v}" for k, v in sorted(identity.items()))
        raise CheckpointError(f"{path} belongs to a different run ({theirs}) than this one ({ours}); {fix}")
    try:
        model.load_training_state(state["model"])
    except (RuntimeError, KeyError) as err:  # networks or counters of another layout (an older recipe)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path} holds {identity.get('model', 'model')} networks of another layout than this version builds "
            f"({type(err).__name__}: {first}); {fix}"
        ) from err


def rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
