"""DCGAN (Radford et al., 2016): the GAN losses on a transposed-conv generator and strided-conv
discriminator with batch norm, weights initialised from N(0, 0.02) as in the paper."""
from __future__ import annotations

import torch.nn as nn

from gensweep.models.gan import GAN


class DCGAN(GAN):
    name = "dcgan"

    def __init__(self, **kwargs) -> None:
        super().__init__(arch="conv", **kwargs)

    def init_weights(self) -> None:
        for net in self.nets.values():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                    nn.init.normal_(m.weight, 0.0, 0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.normal_(m.weight, 1.0, 0.02)
                    nn.init.zeros_(m.bias)
