"""AT2L's MNIST models A-D (the AT2L paper's Table 6), Tramer et al.'s ensemble-adversarial-training models.

Valid padding and stride 1 unless stated; dropout probabilities as in Tramer et al.'s code.
"""

from __future__ import annotations

from torch import nn

from lit_robust.models.basic_cnn import basic_cnn_convs
from lit_robust.models.layers import flat_features
from lit_robust.models.mlp import MLP, mlp_layers


class _TwoConvDense(nn.Sequential):
    """Two ReLU convolutions, dropout 0.25, flatten, dense 128, ReLU, dropout 0.5, dense: models A and C."""

    def __init__(
        self, in_channels: int, num_classes: int, input_size: int, widths: tuple[int, int], kernel_size: int
    ) -> None:
        convs = [
            nn.Conv2d(in_channels, widths[0], kernel_size),
            nn.ReLU(),
            nn.Conv2d(widths[0], widths[1], kernel_size),
            nn.ReLU(),
            nn.Dropout(0.25),
            nn.Flatten(),
        ]
        features = flat_features(nn.Sequential(*convs), in_channels, input_size, type(self).__name__)
        super().__init__(*convs, *mlp_layers(features, [128], num_classes, dropout=0.5))


class MnistModelA(_TwoConvDense):
    """Model A: conv 64 5x5, ReLU, conv 64 5x5, ReLU, dropout 0.25, flatten, dense 128, ReLU, dropout 0.5,
    dense.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images (at least 9).

    Raises:
        ValueError: if ``input_size`` is too small for the two valid 5x5 convolutions.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        super().__init__(in_channels, num_classes, input_size, widths=(64, 64), kernel_size=5)


class MnistModelB(nn.Sequential):
    """Model B: dropout 0.2, the basic CNN's three ReLU convolutions, dropout 0.5, flatten, dense.

    The convolutions are conv 64 8x8 stride 2, conv 128 6x6 stride 2, conv 128 5x5 (see
    :func:`~lit_robust.models.basic_cnn.basic_cnn_convs`). The first one uses TensorFlow "SAME" padding as in
    Tramer et al.'s code: with valid padding a 28x28 image would be too small for the third convolution.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images (at least 27).

    Raises:
        ValueError: if ``input_size`` is too small for the convolutions.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        convs = [nn.Dropout(0.2), *basic_cnn_convs(in_channels), nn.Dropout(0.5), nn.Flatten()]
        features = flat_features(nn.Sequential(*convs), in_channels, input_size, type(self).__name__)
        super().__init__(*convs, nn.Linear(features, num_classes))


class MnistModelC(_TwoConvDense):
    """Model C: conv 128 3x3, ReLU, conv 64 3x3, ReLU, dropout 0.25, flatten, dense 128, ReLU, dropout 0.5,
    dense.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images (at least 5).

    Raises:
        ValueError: if ``input_size`` is too small for the two valid 3x3 convolutions.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        super().__init__(in_channels, num_classes, input_size, widths=(128, 64), kernel_size=3)


class MnistModelD(MLP):
    """Model D: flatten, ``num_hidden_layers`` x [dense 300, ReLU, dropout 0.5], dense.

    The AT2L paper's table has three hidden layers (the default); Tramer et al.'s code has four
    (``num_hidden_layers=4``).

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images.
        num_hidden_layers: number of hidden dense layers.
    """

    def __init__(
        self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28, num_hidden_layers: int = 3
    ) -> None:
        super().__init__(in_channels, num_classes, input_size, [300] * num_hidden_layers, dropout=0.5)
