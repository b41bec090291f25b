"""curves.png: a model's headline curves per epoch, one panel per quantity."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gensweep.files import save_figure  # noqa: E402


def plot_curves(
    rows: Sequence[dict[str, float]], panels: Sequence[tuple[str, Sequence[str]]], path: Path, title: str
) -> None:
    """Draw each (y label, columns) panel against epoch, three panels a row; a column measured only at some
    epochs (FID, the probe: every metrics.every) joins the epochs that have it."""
    per_row = min(3, len(panels))
    n_rows = math.ceil(len(panels) / per_row)
    fig, axes = plt.subplots(n_rows, per_row, figsize=(5 * per_row, 3.6 * n_rows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (ylabel, columns) in zip(axes.flat, panels):
        for col in columns:
            points = [
                (int(r["epoch"]), float(r[col]))
                for r in rows
                if r.get(col) is not None and math.isfinite(float(r[col]))
            ]
            ax.plot([e for e, _ in points], [v for _, v in points], marker="o", markersize=3, label=col)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
