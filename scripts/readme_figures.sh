#!/usr/bin/env bash
# Rebuild the README's figures from the default command (VAE on the bundled digits, CPU, seed 0).
# Usage: scripts/readme_figures.sh   (from the repository root, with gensweep installed)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
run=outputs/readme/default
rm -rf "$run"
"$python" -m gensweep device=cpu trainer.progress=false hydra.run.dir="$run"
last=$(ls "$run"/samples/epoch_*.png | tail -n 1)
cp "$last" docs/images/default_samples.png
cp "$run"/curves.png docs/images/default_curves.png
cp "$run"/reconstructions.png docs/images/default_reconstructions.png
echo "README figures updated from $run ($(basename "$last"))"
tail -n 1 "$run"/metrics.csv
