#!/usr/bin/env bash
# S5: CAE vs VAE on UT Zappos50K, lr 1e-3, 50 epochs: losses, reconstructions, interpolation GIF (2 runs).
# Usage: scripts/s5_zappos.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib or hydra/launcher=slurm]
# --smoke: one epoch of the same sweep on a 128-image subset of the bundled digits (see scripts/study.sh).
exec "$(dirname "$0")/study.sh" s5_zappos "$@"
