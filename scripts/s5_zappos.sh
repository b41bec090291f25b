#!/usr/bin/env bash
# S5: convolutional autoencoder (MSE) vs VAE (BCE + KL) on UT Zappos50K's four shoe categories, Adam
# Usage: scripts/s5_zappos.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib device=cuda]
exec "$(dirname "$0")/study.sh" s5_zappos "$@"
