#!/usr/bin/env bash
# S1, depth: VAE n_layers 2/3, GAN and WGAN n_layers 4/5 (MLP hidden layers), z_dim 50, MNIST and CIFAR-10,
# Usage: scripts/s1_depth.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib device=cuda]
exec "$(dirname "$0")/study.sh" s1_depth "$@"
