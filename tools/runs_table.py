"""One Markdown row per finished run folder: its FID and classes covered at every evaluation, its final FID as a
multiple of the real floor, the VAE's validation loss in nats per image, and the training seconds; written to
docs/results/<name>.md.

    python tools/runs_table.py --name colour_targets outputs/runs/A outputs/runs/B ...

The rows show each run's own overrides (its .hydra/overrides.yaml), so a table of runs made at different
times says what each one was.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import doc_parser, write  # noqa: E402

COLUMNS = (
    "run",
    "model",
    "overrides",
    "train images",
    "epochs",
    "fid by evaluation",
    "classes by evaluation",
    "x floor",
    "val_loss (nats)",
    "train s",
)
# Overrides every row shares in practice (where the data is, no progress bars); left out of the column.
QUIET = ("dataset.root=", "dataset.download=", "trainer.progress=", "hydra.")


def row(run: Path) -> dict[str, str]:
    summary = json.loads((run / "summary.json").read_text())
    if summary.get("status") != "completed":
        sys.exit(f"runs_table.py: {run} is not a completed run (status {summary.get('status')!r})")
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    evals = [r for r in rows if r.get("fid")]
    overrides = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text()) or []
    subset = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["dataset"].get("subset")
    final, floor = float(evals[-1]["fid"]), summary.get("fid_real_floor")
    val = rows[-1].get("val_loss", "")
    return {
        "run": "/".join(run.resolve().parts[-2:]),
        "model": summary["model"],
        "overrides": " ".join(f"`{o}`" for o in overrides if not o.startswith(QUIET)),
        "train images": f"{subset:,}" if subset else "all",
        "epochs": str(summary["epochs_completed"]),
        "fid by evaluation": " / ".join(f"{float(r['fid']):.0f}" for r in evals),
        "classes by evaluation": " / ".join(r.get("classes_covered", "") for r in evals),
        "x floor": f"{final / floor:.1f}" if floor else "",
        "val_loss (nats)": f"{float(val):.0f}" if val and summary["model"] == "vae" else "",
        "train s": f"{summary.get('train_seconds', 0):.0f}",
    }


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--name", required=True, help="docs/results/<name>.md")
    parser.add_argument("--intro", default="", help="a line above the table")
    parser.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args()
    if missing := [str(r) for r in args.runs if not (r / "summary.json").is_file()]:
        sys.exit(f"runs_table.py: not a run folder (no summary.json): {', '.join(missing)}")
    table = [row(r) for r in args.runs]
    lines = ([args.intro, ""] if args.intro else []) + ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r[c] for c in COLUMNS) + " |" for r in table]
    print("\n".join(lines))
    print(f"\ntable: {write(args.name, chr(10).join(lines))}")


if __name__ == "__main__":
    main()
