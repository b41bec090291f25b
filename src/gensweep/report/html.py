"""report/index.html: the whole sweep report as one page that opens from the file system.

No server and no network: the images are the report's own files and each run's, linked by relative paths,
and the only script is the few lines below that sort a table when its header is clicked.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import quote

from gensweep.files import write_text
from gensweep.report.effects import Effect, factors
from gensweep.report.runs import Run, label

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; }
th { background: #eee; cursor: pointer; user-select: none; }
th:after { content: " \\2195"; color: #999; }
tr.failed, tr.diverged, tr.interrupted { background: #fdd; }
tr.running { background: #ffd; }
img.plot { max-width: 100%; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #ccc; padding: 6px; width: 280px; font-size: 13px; }
.card img { width: 100%; image-rendering: pixelated; }
"""

# Click a header to sort by that column (numbers as numbers, empty cells last); click again to reverse.
SORT = """
document.querySelectorAll("table.sortable th").forEach((th, col) => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0], up = th.dataset.order !== "up";
  th.dataset.order = up ? "up" : "down";
  const value = row => { const t = row.cells[col].textContent.trim(), n = Number(t);
                         return t === "" ? null : (isNaN(n) ? t : n); };
  Array.from(body.rows).sort((a, b) => {
    const x = value(a), y = value(b);
    if (x === null || y === null) return (x === null) - (y === null);
    if (typeof x !== typeof y) return typeof x === "number" ? -1 : 1;
    return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
  }).forEach(row => body.appendChild(row));
}));
"""


def link(target: Path, out: Path) -> str:
    """`target` relative to the page's folder, as a URL path."""
    return quote(Path(os.path.relpath(target, out)).as_posix())


def _table(rows: list[dict[str, str]], table_id: str, links: list[str] | None = None) -> str:
    if not rows:
        return "<p>(none)</p>"
    header = list(rows[0])
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for h in header:
            text = html.escape(str(row.get(h, "")))
            if h == "job" and links:
                text = f'<a href="{links[i]}">{text}</a>'
            cells.append(f"<td>{text}</td>")
        status = html.escape(str(row.get("status", "")))
        body.append(f'<tr class="{status}">{"".join(cells)}</tr>')
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _card(run: Run, keys: list[str], out: Path) -> str:
    fid = run.summary.get("final", {}).get("fid")
    title = label(run, keys)
    parts = [
        f"<b>{html.escape(run.name)}</b>: {html.escape(title)}<br>{html.escape(run.status)}"
        + (f", FID {fid:.4g}" if isinstance(fid, (int, float)) else "")
    ]
    images = [
        ("samples", run.last_samples),
        ("interpolation", run.folder / "interpolation.png"),
        ("reconstructions", run.folder / "reconstructions.png"),
    ]
    for what, path in images:
        if path is not None and path.is_file():
            parts.append(f'<img src="{link(path, out)}" alt="{what} of {html.escape(run.name)}" title="{what}">')
    files = [("folder", run.folder)] + [
        (name, run.folder / name) for name in ("curves.png", "metrics.csv", "summary.json")
    ]
    parts.append(" · ".join(f'<a href="{link(path, out)}">{name}</a>' for name, path in files if path.exists()))
    return f'<div class="card">{"<br>".join(parts)}</div>'


def write_html(
    out: Path,
    title: str,
    runs: list[Run],
    keys: list[str],
    table: list[dict[str, str]],
    settings: list[dict[str, str]],
    effects: list[Effect],
    plots: list[Path],
) -> Path:
    repeated = len(factors(keys)) < len(keys)
    sections = [
        f"<h1>Sweep report</h1><p>{html.escape(title)}</p>",
        f"<p>{len(runs)} runs: "
        + ", ".join(f"{sum(r.status == s for r in runs)} {s}" for s in sorted({r.status for r in runs}))
        + "</p>",
        "<h2>Runs</h2><p>Final values; click a column to sort. A job links to its folder.</p>",
        _table(table, "runs", [link(r.folder, out) + "/" for r in runs]),
    ]
    if repeated:
        sections += ["<h2>Per setting, over the seeds</h2>", _table(settings, "settings")]
    if effects:
        sections.append("<h2>Effect of each swept key</h2>")
        for effect in effects:
            findings = "".join(f"<li>{html.escape(f)}</li>" for f in effect.findings)
            sections.append(
                f'<figure><img class="plot" src="{link(effect.path, out)}" alt="effect of {html.escape(effect.key)}">'
                f"<figcaption><ul>{findings}</ul></figcaption></figure>"
            )
    if plots:
        sections.append(
            "<h2>Curves</h2>"
            + "".join(f'<img class="plot" src="{link(p, out)}" alt="{html.escape(p.stem)}">' for p in plots)
        )
    sections.append(
        '<h2>Samples, interpolations and reconstructions</h2><div class="cards">'
        + "".join(_card(r, factors(keys), out) for r in runs)
        + "</div>"
    )
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Sweep report: {html.escape(title)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(sections)
        + f"\n<script>{SORT}</script>\n</body></html>\n"
    )
    path = out / "index.html"
    write_text(path, page)
    return path
