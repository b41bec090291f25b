#!/usr/bin/env bash
# Rebuild the README's figures from the default command (VAE on the bundled digits, CPU, seed 0), print what the
# run's quality metrics cost as a share of its wall time, and write the run's figures and seconds by part to
# docs/results/default_run.md.
# Usage: tools/readme_figures.sh [--studies | --report]   (from the repository root, with gensweep installed)
# --studies: instead, run every study's smoke sweep (scripts/study.sh <study> --smoke) and copy each report's
# side-by-side samples.png to docs/images/study_<study>_smoke.png (the images of docs/studies.md).
# --report: instead, run study S1 (depth) on the bundled digits with 3 seeds, 30 epochs (18 runs, one at a time:
# about 20 minutes on 2 cores), and copy its report's effect plot and a headless-browser screenshot of its
# index.html (Debian's chromium) to docs/images/report_*.png (the README's "Reading a report").
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
if [[ "${1:-}" == "--report" ]]; then
  sweep=outputs/readme/s1_depth_digits_3seeds
  rm -rf "$sweep"
  GENSWEEP_JOBS=1 "$python" -m gensweep experiment=s1_depth dataset=digits seed=0,1,2 n_epochs=30 metrics.every=10 \
    trainer.progress=false hydra/launcher=joblib hydra.sweep.dir="$sweep" -m >/dev/null
  cp "$sweep"/report/effect_model_preset.png docs/images/report_effect_model_preset.png
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1300,1500 \
    --screenshot="$PWD/docs/images/report_index.png" "file://$PWD/$sweep/report/index.html" 2>/dev/null
  echo "docs/images/report_effect_model_preset.png and report_index.png from $sweep"
  exit 0
fi
if [[ "${1:-}" == "--studies" ]]; then
  for study in s1_depth s1_latent s2_latent_width s3_svhn s4_conditional s5_zappos; do
    GENSWEEP_STUDIES=outputs/readme/studies PYTHON="$python" scripts/study.sh "$study" --smoke >/dev/null
    dir=$(ls -d outputs/readme/studies/"$study"-smoke/* | tail -n 1)
    # 16 grey levels: the grids are grey, and the 48-panel S2 image stays under 2 MB (1.2 MB; 2.9 MB with 256)
    "$python" -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('L').point(lambda v: v // 16 * 17).save(sys.argv[2], optimize=True)" \
      "$dir/report/samples.png" "docs/images/study_${study}_smoke.png"
    echo "docs/images/study_${study}_smoke.png from $dir"
  done
  exit 0
fi
run=outputs/readme/default
rm -rf "$run"
"$python" -m gensweep device=cpu trainer.progress=false hydra.run.dir="$run"
last=$(ls "$run"/samples/epoch_*.png | tail -n 1)
cp "$last" docs/images/default_samples.png
cp "$run"/curves.png docs/images/default_curves.png
cp "$run"/reconstructions.png docs/images/default_reconstructions.png
cp "$run"/interpolation.png docs/images/default_interpolation.png
echo "README figures updated from $run ($(basename "$last"))"
tail -n 1 "$run"/metrics.csv
"$python" - "$run/summary.json" <<'PY'
# printed, and written to docs/results/default_run.md under tools/results.py's header line
import datetime, json, sys
sys.path.insert(0, "tools")
from results import RESULTS, machine
s = json.load(open(sys.argv[1]))
share = 100 * s['metrics_seconds'] / s['wall_seconds']
print(f"wall {s['wall_seconds']:.1f}s, training {s['train_seconds']:.1f}s, quality metrics {s['metrics_seconds']:.1f}s "
      f"({share:.1f}% of wall), final FID {s['final']['fid']:.1f}, "
      f"floor {s['fid_real_floor']:.1f}, val_loss {s['final']['val_loss']:.1f}")
rows = [("wall time", f"{s['wall_seconds']:.1f} s"), ("training", f"{s['train_seconds']:.1f} s"),
        ("quality metrics (`metrics_seconds`)", f"{s['metrics_seconds']:.1f} s ({share:.1f}% of wall time)"),
        ("final FID (classifier backbone)", f"{s['final']['fid']:.1f}"),
        ("real-data floor (`fid_real_floor`)", f"{s['fid_real_floor']:.1f}"),
        ("final val_loss (nats per image)", f"{s['final']['val_loss']:.1f}")]
parts = [("start-up (`startup_seconds`)", s.get('startup_seconds') or 0.0), *s.get('seconds_by_part', {}).items()]
body = "\n".join([
    "The default command on the CPU (`python -m gensweep device=cpu trainer.progress=false`), from its "
    "`summary.json`; the figures of the README and docs/reports.md are this run's files.", "",
    "| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
    "| part (`seconds_by_part`) | seconds |", "|---|---|", *(f"| {k} | {v:.2f} |" for k, v in parts)])
header = f"Measured on {machine()}, {datetime.date.today().isoformat()}: `bash tools/readme_figures.sh`"
(RESULTS / "default_run.md").write_text(f"{header}\n\n{body}\n")
print(f"written: {RESULTS / 'default_run.md'}")
PY
