#!/usr/bin/env bash
# S1 latent size: VAE (n_layers 3), GAN and WGAN (n_layers 5) at z_dim 32/50/100, MNIST and CIFAR-10, 50 epochs (18 runs).
# Usage: scripts/s1_latent.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib or hydra/launcher=slurm]
# --smoke: one epoch of the same sweep on a 128-image subset of the bundled digits (see scripts/study.sh).
exec "$(dirname "$0")/study.sh" s1_latent "$@"
