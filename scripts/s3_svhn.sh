#!/usr/bin/env bash
# S3: VAE vs GAN with one decoder/generator architecture on SVHN, 50 epochs: latent vs pixel interpolations
# Usage: scripts/s3_svhn.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib device=cuda]
exec "$(dirname "$0")/study.sh" s3_svhn "$@"
