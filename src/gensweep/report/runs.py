"""A sweep's runs as the report reads them: each job folder's overrides, summary and metrics rows, and which
keys the sweep varies. The report's other modules (effects, html, sweep) build on these."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gensweep.files import csv_number, read_csv


@dataclass
class Run:
    folder: Path
    overrides: dict[str, str]
    summary: dict = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    sweep: str = ""  # the sweep's name, when a report covers several

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "not started"))

    @property
    def name(self) -> str:
        return f"{self.sweep}/{self.folder.name}" if self.sweep else self.folder.name

    @property
    def model(self) -> str:
        return str(self.summary.get("model") or self.overrides.get("model", ""))

    @property
    def dataset(self) -> str:
        return str(self.summary.get("dataset") or self.overrides.get("dataset", ""))

    @property
    def last_samples(self) -> Path | None:
        grids = sorted((self.folder / "samples").glob("epoch_*.png"))
        return grids[-1] if grids else None


def read_yaml(path: Path):
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def collect(sweep: Path, name: str = "") -> list[Run]:
    """Every job folder of the sweep (a folder with Hydra's .hydra/ record), in job order; `name` marks them
    as this sweep's in a report over several (and becomes their `sweep` key).

    A sweep still running is read as it stands: jobs in progress have `status: running` and the epochs so far
    (every file read here is written whole, or appended row by row, by the trainer)."""
    runs = []
    folders = [p for p in sweep.iterdir() if (p / ".hydra" / "overrides.yaml").is_file()]
    for folder in sorted(folders, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name)):
        overrides = dict(o.split("=", 1) for o in (read_yaml(folder / ".hydra" / "overrides.yaml") or []) if "=" in o)
        if name:
            overrides["sweep"] = name
        summary_path = folder / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        rows = [
            r
            for r in (read_csv(folder / "metrics.csv") if (folder / "metrics.csv").is_file() else [])
            if r.get("epoch")
        ]
        if summary.get("status") == "running" and rows:  # summary.json is rewritten only at the run's end
            last = {k: csv_number(v) for k, v in rows[-1].items()}
            summary = {
                **summary,
                "epochs_completed": int(last["epoch"]),
                "train_seconds": last.get("seconds"),
                "final": {k: v for k, v in last.items() if math.isfinite(v)},
            }
        runs.append(Run(folder, overrides, summary, rows, name))
    return runs


def swept_keys(runs: list[Run], declared: tuple[str, ...] = ()) -> list[str]:
    """Override keys whose values differ between runs (what the sweep compares), and the keys the sweep
    `declared` (from its multirun.yaml: a live sweep with one job started does not vary yet)."""
    keys = sorted({k for r in runs for k in r.overrides})
    varying = [k for k in keys if k in declared or len({r.overrides.get(k) for r in runs}) > 1]
    return [k for k in varying if k not in ("resume",)] or keys


def declared_keys(sweep: Path) -> tuple[str, ...]:
    """The keys a sweep's command (or its experiment's sweeper params) gives several values; a key the command
    gives one value replaces the experiment's list, as it does in Hydra's sweeper."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    record = read_yaml(sweep / "multirun.yaml") or {}
    hydra = record.get("hydra") or {}
    # Hydra's parser: `model=vae,gan` sweeps, `logger=[csv,mlflow]` is one value (a list)
    task = OverridesParser.create().parse_overrides((hydra.get("overrides") or {}).get("task") or [])
    given = {o.key_or_group.lstrip("+") for o in task}
    keys = [o.key_or_group for o in task if o.is_sweep_override()]
    keys += [k for k in ((hydra.get("sweeper") or {}).get("params") or {}) if k.lstrip("+") not in given]
    return tuple(k.lstrip("+") for k in keys)


def label(run: Run, keys: list[str]) -> str:
    return " ".join(f"{k}={run.overrides.get(k, '-')}" for k in keys) or run.name
