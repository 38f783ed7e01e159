"""`PRBasicCNN`: the Pixel Redrawn paper's classifier (CleverHans' ``ModelBasicCNN``)."""

from __future__ import annotations

from torch import nn

from lit_robust.models.layers import Conv2dSame, flat_features


def basic_cnn_convs(in_channels: int) -> list[nn.Module]:
    """The three ReLU convolutions of CleverHans' basic CNN, also the body of AT2L's MNIST model B.

    Conv 64 8x8 stride 2 with TensorFlow "SAME" padding, conv 128 6x6 stride 2 valid, conv 128 5x5 stride 1
    valid; 28x28 images shrink to 14x14, 5x5, then 1x1.
    """
    return [
        Conv2dSame(in_channels, 64, 8, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 128, 6, stride=2),
        nn.ReLU(),
        nn.Conv2d(128, 128, 5),
        nn.ReLU(),
    ]


class PRBasicCNN(nn.Sequential):
    """The Pixel Redrawn paper's "basic CNN": three ReLU convolutions (see :func:`basic_cnn_convs`), flatten,
    dense ``num_classes``.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images (at least 27).

    Raises:
        ValueError: if ``input_size`` is too small for the valid convolutions.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        convs = [*basic_cnn_convs(in_channels), nn.Flatten()]
        features = flat_features(nn.Sequential(*convs), in_channels, input_size, type(self).__name__)
        super().__init__(*convs, nn.Linear(features, num_classes))
