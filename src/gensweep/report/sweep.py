"""The comparison report of a sweep: runs.csv, README.md, overlaid curves and the runs' last sample grids.

Written by a Hydra callback when a multirun ends, or later with `python -m gensweep.report <sweep folder>`.
Every job folder is listed, whatever its status: failed, diverged or unfinished runs are not dropped.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from gensweep.columns import LOSSES, QUALITY_NAMES  # noqa: E402
from gensweep.files import csv_number, save_figure, write_csv, write_text  # noqa: E402
from gensweep.report.effects import factors, mean_std, plot_effects, summary_rows  # noqa: E402
from gensweep.report.html import write_html  # noqa: E402
from gensweep.report.runs import Run, collect, declared_keys, label, read_yaml, swept_keys  # noqa: E402

# Final values copied from each run's summary into runs.csv, when the run has them.
FINAL_COLUMNS = LOSSES + QUALITY_NAMES


def _final(run: Run, column: str) -> str:
    value = run.summary.get("final", {}).get(column, run.summary.get(column))
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_runs_csv(runs: list[Run], keys: list[str], path: Path) -> list[dict[str, str]]:
    present = [c for c in FINAL_COLUMNS if any(_final(r, c) for r in runs)]
    table = []
    for r in runs:
        row = {
            "job": r.name,
            **{k: r.overrides.get(k, "") for k in keys},
            "status": r.status,
            "model": r.model,
            "epochs": str(r.summary.get("epochs_completed", "")),
            **{c: _final(r, c) for c in present},
            "train_seconds": str(r.summary.get("train_seconds", "")),
            "error": str(r.summary.get("error", "")).splitlines()[0] if r.summary.get("error") else "",
        }
        table.append(row)
    write_csv(path, table)
    return table


def _curve(members: list[Run], column: str) -> tuple[list[float], list[float], list[float]]:
    """Epochs, mean and std of `column` over the runs that reached each epoch; epochs where no run measured it
    (FID and the probe run every metrics.every epochs) are left out, so that the measured ones join."""
    by_epoch: dict[float, list[float]] = {}
    for r in members:
        for row in r.rows:
            by_epoch.setdefault(csv_number(row.get("epoch")), []).append(csv_number(row.get(column)))
    epochs = sorted(e for e in by_epoch if math.isfinite(e) and mean_std(by_epoch[e])[2] > 0)
    stats = [mean_std(by_epoch[e]) for e in epochs]
    return epochs, [s[0] for s in stats], [s[1] for s in stats]


def plot_comparisons(runs: list[Run], keys: list[str], out: Path) -> list[Path]:
    """One figure per model and curve panel, every setting of that model overlaid, labelled by the swept keys
    that vary among that model's runs; a setting run with several seeds is drawn as its mean ± 1 std band."""
    written = []
    by_model: dict[str, list[Run]] = {}
    for r in runs:
        if r.rows and r.summary.get("curves"):  # the panels each run's trainer recorded in summary.json
            by_model.setdefault(r.model, []).append(r)
    for name, group in by_model.items():
        varying = [k for k in factors(keys) if len({r.overrides.get(k) for r in group}) > 1]  # within this model
        settings: dict[tuple, list[Run]] = {}
        for r in group:
            settings.setdefault(tuple(r.overrides.get(k, "-") for k in varying), []).append(r)
        for ylabel, columns in group[0].summary["curves"]:
            fig, ax = plt.subplots(figsize=(7, 4.2))
            for i, (setting, members) in enumerate(settings.items()):
                color = f"C{i % 10}"
                text = " ".join(f"{k}={v}" for k, v in zip(varying, setting))
                seeds = f" ({len(members)} seeds)" if len(members) > 1 else ""
                for j, col in enumerate(columns):
                    epochs, mean, std = _curve(members, col)
                    # markers: a run of one epoch is one point, invisible as a line alone
                    ax.plot(
                        epochs,
                        mean,
                        color=color,
                        marker="o",
                        markersize=3,
                        linestyle=("-", "--", ":")[j % 3],
                        label=f"{text} {col}{seeds}".strip(),
                    )
                    if len(members) > 1:
                        ax.fill_between(
                            epochs,
                            [m - s for m, s in zip(mean, std)],
                            [m + s for m, s in zip(mean, std)],
                            color=color,
                            alpha=0.15,
                            linewidth=0,
                        )
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(ylabel)
            ax.set_title(f"{name}: {ylabel}" + (f" for {', '.join(varying)}" if varying else ""))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
            fig.tight_layout()
            path = out / f"{name}_{columns[0]}.png"
            save_figure(fig, path)
            written.append(path)
    return written


# Per-run images the report shows side by side: (file in the report, what it is, the run's image to take).
PANELS = (
    ("samples.png", "Last sample grid of each run", lambda r: r.last_samples),
    (
        "interpolations.png",
        "Latent (top row) vs pixel (bottom row) interpolation of each run",
        lambda r: r.folder / "interpolation.png",
    ),
    (
        "reconstructions.png",
        "Originals (top) above reconstructions (bottom), models with an encoder",
        lambda r: r.folder / "reconstructions.png",
    ),
)


def plot_panel(runs: list[Run], keys: list[str], path: Path, pick) -> bool:
    """One image per run side by side, titled by its swept keys and its FID (samples and FID together)."""
    shown = [(r, pick(r)) for r in runs if pick(r) is not None and pick(r).is_file()]
    if not shown:
        return False
    images = {}
    for _, image_path in shown:
        try:
            images[image_path] = mpimg.imread(image_path)
        except (OSError, SyntaxError, ValueError):  # a run of an older version, cut off mid-write: left out
            continue
    shown = [(r, image_path) for r, image_path in shown if image_path in images]
    if not shown:
        return False
    cols = min(4, len(shown))
    nrows = math.ceil(len(shown) / cols)
    image = images[shown[0][1]]
    aspect = image.shape[0] / image.shape[1]
    # titles wrapped to the panel's width: a long label (many swept keys) would run into its neighbours'
    titles = [
        f"{textwrap.fill(label(r, keys), 48)}\n{r.status}" + (f"  FID {_final(r, 'fid')}" if _final(r, "fid") else "")
        for r, _ in shown
    ]
    lines = max(t.count("\n") + 1 for t in titles)
    fig, axes = plt.subplots(
        nrows, cols, figsize=(3.2 * cols, (3.2 * aspect + 0.17 * lines + 0.15) * nrows), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, (_, image_path), title in zip(axes.flat, shown, titles):
        ax.imshow(images[image_path], cmap="gray")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    return True


def markdown_table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return []
    header = list(rows[0])
    return (
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(str(row.get(h, "")).replace("|", "/") for h in header) + " |" for row in rows]
        + [""]
    )


def write_report(sweep: Path, runs: list[Run] | None = None) -> Path:
    """Write <sweep>/report/ (from `runs` when already collected) and return its README path."""
    sweep = Path(sweep)
    runs = collect(sweep) if runs is None else runs
    return write_comparison(
        runs, sweep / "report", str(sweep), read_yaml(sweep / "optimization_results.yaml"), declared_keys(sweep)
    )


def write_comparison(
    runs: list[Run], out: Path, title: str, optuna: dict | None = None, declared: tuple[str, ...] = ()
) -> Path:
    """The report over `runs` (one sweep's, or several sweeps' together) into `out`: runs.csv, summary.csv,
    effect and curve plots, side-by-side images, README.md and index.html. Returns the README's path."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("effect_*.png"):  # a live report rewritten as the sweep goes: only today's keys
        old.unlink()
    keys = swept_keys(runs, declared)
    table = write_runs_csv(runs, keys, out / "runs.csv")
    settings = summary_rows(runs, keys)
    write_csv(out / "summary.csv", settings)
    effects = plot_effects(runs, keys, out)
    plots = plot_comparisons(runs, keys, out)
    panels = [(name, words) for name, words, pick in PANELS if plot_panel(runs, keys, out / name, pick)]
    counts = {s: sum(r.status == s for r in runs) for s in ("completed", "running")}
    other = len(runs) - sum(counts.values())
    repeats = [k for k in keys if k not in factors(keys)]
    lines = [
        f"# Sweep report: {title}",
        "",
        f"{len(runs)} runs, {counts['completed']} completed, "
        + (f"{counts['running']} running, " if counts["running"] else "")
        + f"{other} not completed. "
        f"Swept: {', '.join(factors(keys)) or 'nothing'}"
        + (f"; repeated over {', '.join(repeats)} (summary.csv: mean, std and count per setting)" if repeats else "")
        + ". Open index.html in a browser for the whole report.",
        "",
    ]
    if optuna:  # written by hydra/sweeper=optuna
        params = " ".join(f"{k}={v}" for k, v in (optuna.get("best_params") or {}).items())
        lines += [
            f"Optuna's best trial of {len(runs)}: {params} with objective {optuna.get('best_value'):.4g} "
            "(the objective is each run's final FID unless `objective` says otherwise).",
            "",
        ]
    lines += markdown_table(table)
    if repeats:
        lines += ["Per setting (mean, std and count over the seeds):", ""] + markdown_table(settings)
    for effect in effects:
        lines += [f"![{effect.path.stem}]({effect.path.name})", ""] + [f"- {f}" for f in effect.findings] + [""]
    for p in plots:
        lines += [f"![{p.stem}]({p.name})", ""]
    for name, words in panels:
        lines += [f"{words}:", "", f"![{Path(name).stem}]({name})", ""]
    write_text(out / "README.md", "\n".join(lines))
    write_html(out, title, runs, keys, table, settings, effects, plots)
    return out / "README.md"
