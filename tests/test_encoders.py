import pytest
import torch

from sk_ssl.encoders import MLPEncoder, ProjectionHead, ResNet18Encoder, SmallCNNEncoder, make_encoder


@pytest.mark.parametrize(
    "spec, shape, cls",
    [
        ("auto", (10,), MLPEncoder),
        ("auto", (1, 8, 8), SmallCNNEncoder),
        ("auto", (1, 28, 28), SmallCNNEncoder),
        ("auto", (3, 32, 32), SmallCNNEncoder),  # CIFAR size: ResNet-18 is ~40x slower on CPU
        ("auto", (3, 33, 33), ResNet18Encoder),
        ("mlp", (1, 4, 4), MLPEncoder),
    ],
)
def test_make_encoder_picks_and_outputs_the_right_width(spec, shape, cls):
    encoder = make_encoder(spec, shape, 24)
    assert isinstance(encoder, cls)
    assert encoder(torch.randn(2, *shape)).shape == (2, 24)


def test_resnet18_cifar_stem_has_no_maxpool_and_512_features():
    encoder = ResNet18Encoder((3, 32, 32), 512)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in encoder.modules())
    assert isinstance(encoder.head, torch.nn.Identity)
    assert encoder.features[0].kernel_size == (3, 3) and encoder.features[0].stride == (1, 1)
    assert 11e6 < sum(p.numel() for p in encoder.parameters()) < 11.3e6


def test_mlp_encoder_is_scarf_sized():
    encoder = MLPEncoder((20,), 256)
    widths = [m.out_features for m in encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 256, 256, 256]


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="Unknown encoder 'vgg'"):
        make_encoder("vgg", (10,), 8)
    with pytest.raises(ValueError, match="image_shape"):
        make_encoder("cnn", (10,), 8)


def test_projection_head_shape():
    assert ProjectionHead(16, 32, 8)(torch.randn(5, 16)).shape == (5, 8)
