"""Conditional DCGAN: DCGAN with the class label fed to both networks (one-hot beside z, one-hot planes
beside the image), so samples can be asked for by class; its sample grid has one row per class."""

from __future__ import annotations

from gensweep.models.dcgan import DCGAN


class CDCGAN(DCGAN):
    name = "cdcgan"
    conditional = True
