"""curves.png: a model's headline curves per epoch, one panel per quantity."""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(
    rows: Sequence[dict[str, float]], panels: Sequence[tuple[str, Sequence[str]]], path: Path, title: str
) -> None:
    """Draw each (y label, columns) panel against epoch; missing values (NaN) leave gaps."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    epochs = [int(r["epoch"]) for r in rows]
    for ax, (ylabel, columns) in zip(axes[0], panels):
        for col in columns:
            values = [math.nan if r.get(col) is None else float(r[col]) for r in rows]
            ax.plot(epochs, values, marker="o", markersize=3, label=col)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
