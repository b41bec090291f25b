"""The metrics.csv columns that judge a run, named once for the log, the sweep report, its effect plots and
TensorBoard: (column, label, whether higher is better).

The models' own estimates (jsd, emd) come from their own discriminator or critic; the probe's (probe_jsd,
probe_emd) from critics trained apart, the same for every model (metrics/probe.py).
"""

from __future__ import annotations

LOSSES = ("train_loss", "val_loss", "train_loss_d", "train_loss_g", "val_loss_d", "val_loss_g")
QUALITY = (
    ("fid", "FID", False),
    ("probe_emd", "probe EMD (held-out W1 bound)", False),
    ("probe_jsd", "probe JSD (held-out, nats)", False),
    ("kid", "KID", False),
    ("inception_score", "Inception Score", True),
    ("classes_covered", "classes covered", True),
    ("jsd", "own D's JSD estimate", False),
    ("emd", "own critic's EMD estimate", False),
)
QUALITY_NAMES = tuple(name for name, _, _ in QUALITY)
# A run's headline result, in the order it is looked for: the sweeper's objective=auto takes the first the
# run has (FID when it was measured, else the VAE's or CAE's loss, else the own estimate).
HEADLINE = ("fid", "val_loss", "jsd", "emd")
