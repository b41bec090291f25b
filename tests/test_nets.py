"""Every network works at every image size the datasets use, and n_layers / width act as documented."""

from __future__ import annotations

import pytest
import torch

from gensweep.models.nets import (
    ConvDecoder,
    ConvEncoder,
    MLPDecoder,
    MLPEncoder,
    auto_conv_layers,
    build_discriminator,
    max_conv_layers,
    stage_channels,
)

SHAPES = [(1, 16, 16), (1, 28, 28), (3, 32, 32), (3, 64, 64), (2, 28, 28)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth", ["auto", "max", 1])
@pytest.mark.parametrize("n_classes", [0, 10])
def test_conv_networks_fit_every_image_size(shape, depth, n_classes):
    size = shape[1]
    n_layers = {"auto": auto_conv_layers(size, size), "max": max_conv_layers(size, size)}.get(depth, depth)
    z = torch.randn(3, 8)
    labels = torch.tensor([0, 1, 9]) if n_classes else None
    gen = ConvDecoder(shape, 8, n_layers, 4, out_activation="tanh", n_classes=n_classes)
    out = gen(z, labels)
    assert out.shape == (3, *shape)
    assert out.abs().max() <= 1.0
    disc = ConvEncoder(shape, 1, n_layers, 4, n_classes=n_classes)
    assert disc(out, labels).shape == (3, 1)


@pytest.mark.parametrize("shape", SHAPES)
def test_mlp_networks_fit_every_image_size(shape):
    gen = MLPDecoder(shape, 5, 2, 16, out_activation="sigmoid")
    x = gen(torch.randn(4, 5))
    assert x.shape == (4, *shape) and 0 <= x.min() and x.max() <= 1
    assert MLPEncoder(shape, 1, 2, 16)(x).shape == (4, 1)


def test_depth_limits_follow_image_size():
    assert [max_conv_layers(s, s) for s in (16, 28, 32, 64)] == [3, 3, 4, 5]
    assert [auto_conv_layers(s, s) for s in (16, 28, 32, 64)] == [2, 3, 3, 4]


def test_width_and_depth_set_channels_and_layers():
    assert stage_channels(32, 5) == [32, 64, 128, 256, 256]  # doubling, capped at 8 * width
    enc = ConvEncoder((1, 32, 32), 1, 3, 16)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 32, 64]
    # MLPs: widths double away from z, capped at 4 * width; the discriminator mirrors the generator.
    mlp = MLPEncoder((1, 16, 16), 1, 4, 48)
    linears = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [192, 192, 96, 48, 1]
    gen = MLPDecoder((1, 28, 28), 100, 3, 256)
    assert [m.out_features for m in gen.modules() if isinstance(m, torch.nn.Linear)] == [256, 512, 1024, 784]
    assert not any(isinstance(m, torch.nn.Dropout) for m in mlp.modules())
    dropped = MLPEncoder((1, 28, 28), 1, 3, 256, dropout=0.3)
    assert [m.p for m in dropped.modules() if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3, 0.3]


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_minibatch_std_lets_the_discriminator_see_a_collapsed_batch(arch):
    """The same image scores differently beside copies of itself than beside varied images (and not at all
    without the option, in eval mode); the option adds exactly one input to the output layer."""
    torch.manual_seed(0)
    plain = build_discriminator(arch, (1, 16, 16), 2, 8).eval()
    with_std = build_discriminator(arch, (1, 16, 16), 2, 8, minibatch_std=True).eval()
    image = torch.rand(1, 1, 16, 16)
    collapsed = image.repeat(8, 1, 1, 1)
    varied = torch.cat([image, torch.rand(7, 1, 16, 16)])
    with torch.no_grad():
        assert torch.allclose(plain(collapsed)[0], plain(varied)[0])
        assert not torch.allclose(with_std(collapsed)[0], with_std(varied)[0])

    def n_in(net: torch.nn.Module) -> int:
        return [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1].in_features

    extra = 1 if arch == "mlp" else 16  # one feature, or one 4x4 plane after two stages
    assert n_in(with_std) == n_in(plain) + extra
