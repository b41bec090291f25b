"""DCGAN (Radford et al., 2016): the GAN losses on a transposed-conv generator and strided-conv
discriminator with batch norm, weights initialised from N(0, 0.02) as in the paper (the GAN's init); samples
from an exponential moving average of the generator's weights (Yazici et al., 2019; model.ema), with batch-norm
statistics measured on the average's own activations (standing statistics, Brock et al., 2019)."""

from __future__ import annotations

from gensweep.models.gan import GAN


class DCGAN(GAN):
    name = "dcgan"
    arch = "conv"
