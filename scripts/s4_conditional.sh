#!/usr/bin/env bash
# S4: VAE, GAN, DCGAN, conditional DCGAN on MNIST and CelebA (Smiling), lr 2e-4, 200 epochs (8 runs).
# Usage: scripts/s4_conditional.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib or hydra/launcher=slurm]
# --smoke: one epoch of the same sweep on a 128-image subset of the bundled digits (see scripts/study.sh).
exec "$(dirname "$0")/study.sh" s4_conditional "$@"
