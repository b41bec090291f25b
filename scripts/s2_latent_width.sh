#!/usr/bin/env bash
# S2: latent size x model width for VAE, GAN and WGAN (RMSprop, weight clipping), MNIST and CIFAR-10,
# Usage: scripts/s2_latent_width.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib device=cuda]
exec "$(dirname "$0")/study.sh" s2_latent_width "$@"
