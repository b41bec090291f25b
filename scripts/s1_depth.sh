#!/usr/bin/env bash
# S1 depth: VAE n_layers 2/3, GAN and WGAN n_layers 4/5, z_dim 50, on MNIST and CIFAR-10, 50 epochs (12 runs).
# Usage: scripts/s1_depth.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib or hydra/launcher=slurm]
# --smoke: one epoch of the same sweep on a 128-image subset of the bundled digits (see scripts/study.sh).
exec "$(dirname "$0")/study.sh" s1_depth "$@"
