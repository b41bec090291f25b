#!/usr/bin/env bash
# S4: VAE, GAN, DCGAN and conditional DCGAN on MNIST and CelebA (Smiling as the class), batch 128, Adam
# Usage: scripts/s4_conditional.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib device=cuda]
exec "$(dirname "$0")/study.sh" s4_conditional "$@"
