#!/usr/bin/env bash
# S1, latent size: VAE at n_layers 3, GAN and WGAN at n_layers 5, z_dim 32/50/100, MNIST and CIFAR-10,
# Usage: scripts/s1_latent.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib device=cuda]
exec "$(dirname "$0")/study.sh" s1_latent "$@"
