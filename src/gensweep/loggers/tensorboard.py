"""logger=tensorboard: each epoch's metrics.csv row as scalars and its sample grid as an image, in
<run folder>/tensorboard/ (`tensorboard --logdir outputs/` shows every run). metrics.csv stays the record;
this is a view of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gensweep.columns import QUALITY_NAMES
from gensweep.loggers import finite_values


class TensorBoardLog:
    def __init__(self, folder: Path, resume_epoch: int = 0) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # Events past the checkpoint's epoch (written before a kill, by an epoch whose checkpoint never landed)
        # are purged.
        self.writer = SummaryWriter(str(folder), purge_step=resume_epoch + 1)

    def epoch(self, row: dict[str, float], samples: torch.Tensor | None, nrow: int, grid: Path | None) -> None:
        epoch = int(row["epoch"])
        for key, value in finite_values(row).items():
            if key not in ("epoch", "step"):
                group = "val" if key.startswith("val_") else "quality" if key in QUALITY_NAMES else "train"
                self.writer.add_scalar(f"{group}/{key}", value, epoch)
        if samples is not None:
            from torchvision.utils import make_grid

            self.writer.add_image("samples", make_grid(samples.float().cpu(), nrow=nrow, padding=2), epoch)
        self.writer.flush()

    def close(self, status: str, summary: dict[str, Any]) -> None:
        self.writer.close()
