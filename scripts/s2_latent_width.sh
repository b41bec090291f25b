#!/usr/bin/env bash
# S2: VAE, GAN, WGAN x z_dim 5/10/50/100 x width 32/64/128/256 on MNIST and CIFAR-10, 50 epochs (96 runs).
# Usage: scripts/s2_latent_width.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib or hydra/launcher=slurm]
# --smoke: one epoch of the same sweep on a 128-image subset of the bundled digits (see scripts/study.sh).
exec "$(dirname "$0")/study.sh" s2_latent_width "$@"
