#!/usr/bin/env bash
# S3: VAE vs GAN sharing one decoder/generator on SVHN, 50 epochs: interpolations, samples and FID side by side (2 runs).
# Usage: scripts/s3_svhn.sh [--smoke] [gensweep overrides, e.g. hydra/launcher=joblib or hydra/launcher=slurm]
# --smoke: one epoch of the same sweep on a 128-image subset of the bundled digits (see scripts/study.sh).
exec "$(dirname "$0")/study.sh" s3_svhn "$@"
