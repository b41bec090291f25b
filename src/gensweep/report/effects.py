"""What a sweep's answer looks like: each swept key's effect on the final metrics, seeds pooled into mean ± std.

`seed` is a repetition, not a factor: runs that differ only in their seed form one setting, summarised by its
mean, standard deviation and count (summary.csv). An effect plot puts one swept key's values on the x-axis and
each headline metric's final value on the y-axis, one line per model (and dataset), averaged over every run
at that value: the key's main effect, over the seeds and over the other keys' values alike.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gensweep.columns import QUALITY  # noqa: E402
from gensweep.files import save_figure  # noqa: E402
from gensweep.report.runs import Run  # noqa: E402

# Keys whose values repeat a setting instead of changing it.
REPEAT_KEYS = ("seed",)
# Headline final metrics, each swept key's effect drawn on them: (column, axis label, whether higher is better).
HEADLINE = tuple(c for c in QUALITY if c[0] != "inception_score") + (("val_loss", "validation loss", False),)


def final(run: Run, column: str) -> float:
    """The run's final value of `column` (NaN when it has none or did not complete)."""
    if run.status != "completed":
        return math.nan
    value = run.summary.get("final", {}).get(column)
    return float(value) if isinstance(value, (int, float)) else math.nan


def mean_std(values: list[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count of the finite values."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan, 0
    return statistics.fmean(finite), statistics.stdev(finite) if len(finite) > 1 else 0.0, len(finite)


def factors(keys: list[str]) -> list[str]:
    return [k for k in keys if k not in REPEAT_KEYS]


def summary_rows(runs: list[Run], keys: list[str]) -> list[dict[str, str]]:
    """One row per setting (the swept keys but the seed): how many runs, and each metric's mean, std and n."""
    factor_keys = factors(keys)
    settings: dict[tuple, list[Run]] = {}
    for run in runs:
        settings.setdefault((run.model, *(run.overrides.get(k, "") for k in factor_keys)), []).append(run)
    present = [c for c, _, _ in HEADLINE if any(math.isfinite(final(r, c)) for r in runs)]
    rows = []
    for (model, *values), group in settings.items():
        row = {
            **dict(zip(factor_keys, values)),
            "model": model,
            "runs": str(len(group)),
            "completed": str(sum(r.status == "completed" for r in group)),
        }
        for column in present:
            mean, std, n = mean_std([final(r, column) for r in group])
            row.update({f"{column}_mean": _fmt(mean), f"{column}_std": _fmt(std), f"{column}_n": str(n)})
        rows.append(row)
    return rows


def _fmt(value: float) -> str:
    return "" if not math.isfinite(value) else f"{value:.4g}"


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class Effect:
    key: str
    path: Path
    findings: list[str]  # one line per metric: the best value of the key for each model


def plot_effects(runs: list[Run], keys: list[str], out: Path) -> list[Effect]:
    """report/effect_<key>.png for every swept key (the seed excepted) with at least two values."""
    effects = []
    for key in factors(keys):
        values = sorted(
            {r.overrides.get(key, "") for r in runs} - {""},
            key=lambda v: (_as_number(v) is None, _as_number(v) or 0, v),
        )
        if len(values) < 2:
            continue
        metrics = [(c, name, higher) for c, name, higher in HEADLINE if any(math.isfinite(final(r, c)) for r in runs)]
        if not metrics:
            continue
        effects.append(_plot_key(runs, key, values, metrics, out / f"effect_{key.replace('/', '_')}.png"))
    return effects


def _line_name(run: Run, key: str, several_datasets: bool) -> str:
    """A line of an effect plot: the model (and dataset when the report has several), unless that is the key."""
    parts = [] if key == "model" else [run.model]
    if several_datasets and key != "dataset":
        parts.append(run.dataset)
    return " ".join(p for p in parts if p) or "all runs"


def _plot_key(runs: list[Run], key: str, values: list[str], metrics: list[tuple[str, str, bool]], path: Path) -> Effect:
    numeric = all(_as_number(v) is not None for v in values)
    xs = [_as_number(v) for v in values] if numeric else list(range(len(values)))
    positive = numeric and all(x > 0 for x in xs)
    log_x = positive and ("lr" in key.split(".")[-1] or max(xs) / min(xs) >= 100)
    several_datasets = len({r.dataset for r in runs} - {""}) > 1  # a job that never started has none
    lines: dict[str, list[Run]] = {}
    for run in runs:
        if run.overrides.get(key, "") in values:
            lines.setdefault(_line_name(run, key, several_datasets), []).append(run)
    cols = min(3, len(metrics))
    fig, axes = plt.subplots(
        math.ceil(len(metrics) / cols), cols, figsize=(4.2 * cols, 3.3 * math.ceil(len(metrics) / cols)), squeeze=False
    )
    for ax in axes.flat[len(metrics) :]:
        ax.axis("off")
    findings = []
    for ax, (column, name, higher) in zip(axes.flat, metrics):
        best_per_line = []
        for i, (line, group) in enumerate(lines.items()):
            points = []
            for x, value in zip(xs, values):
                mean, std, n = mean_std([final(r, column) for r in group if r.overrides.get(key) == value])
                if n:
                    points.append((x, value, mean, std, n))
            if not points:
                continue
            px, _, pm, ps, _ = zip(*points)
            ax.errorbar(px, pm, yerr=ps, color=f"C{i % 10}", marker="o", markersize=4, capsize=3, label=line)
            lo, hi = [m - s for m, s in zip(pm, ps)], [m + s for m, s in zip(pm, ps)]
            ax.fill_between(px, lo, hi, color=f"C{i % 10}", alpha=0.15, linewidth=0)
            _, _, mean, std, n = (max if higher else min)(points, key=lambda p: p[2])
            tied = [value for _, value, m, _, _ in points if m == mean]  # every value at the best mean
            spread = f" ± {std:.3g}" if n > 1 else ""
            best_per_line.append(
                f"{line}: {key}={' = '.join(tied)} ({mean:.4g}{spread}, {n} run{'s' * (n > 1)})"
                + (" (a tie)" if len(tied) > 1 else "")
            )
        ax.set_xlabel(key)
        ax.set_ylabel(name)
        if log_x:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(xs, values, rotation=30 if max(len(v) for v in values) > 6 else 0)
        elif len(xs) <= 8:
            ax.set_xticks(xs, values)
        ax.grid(alpha=0.3)
        ax.set_title(name, fontsize=10)
        if best_per_line:
            findings.append(f"{name}, {'highest' if higher else 'lowest'} mean: " + "; ".join(best_per_line))
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"final value against {key} (mean ± 1 std over the runs at each value)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    return Effect(key, path, findings)
