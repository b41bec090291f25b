"""logger=tensorboard mirrors metrics.csv: the same scalars per epoch and the sample grids, also after resume."""

from __future__ import annotations

import pytest
from conftest import SMOKE, train_run
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gensweep.files import read_csv

# Every test here runs the command line or trains: the full suite only (pytest -m 'not slow' skips them).
pytestmark = pytest.mark.slow


def _events(run_dir):
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def test_tensorboard_scalars_match_metrics_csv_after_resume(tmp_path):
    args = ["model=gan", "logger=tensorboard", "metrics.every=1", *SMOKE]
    train_run(tmp_path, args + ["n_epochs=2"])
    train_run(tmp_path, args + ["n_epochs=3"], resume=True)
    rows = read_csv(tmp_path / "metrics.csv")
    acc = _events(tmp_path)
    for column, tag in [("jsd", "quality/jsd"), ("train_loss_d", "train/train_loss_d"), ("fid", "quality/fid")]:
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [1, 2, 3]
        assert [e.value for e in events] == pytest.approx([float(r[column]) for r in rows], rel=1e-5)
    images = acc.Images("samples")
    assert [e.step for e in images] == [1, 2, 3] and images[0].width > 64
