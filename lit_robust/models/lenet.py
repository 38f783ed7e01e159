"""`LeNet5`: the adversary-critic paper's LeNet-5, also the constant-perturbation paper's MNIST CNN."""

from __future__ import annotations

from torch import nn

from lit_robust.models.layers import flat_features
from lit_robust.models.mlp import mlp_layers


class LeNet5(nn.Sequential):
    """Conv 32 5x5, ReLU, max-pool 2; conv 64 5x5, ReLU, max-pool 2; dense ``hidden``, ReLU, dropout; dense.

    The defaults are the adversary-critic paper's LeNet-5 (fc 512, no dropout). The constant-perturbation
    paper's MNIST CNN (conv32-5, pool, conv64-5, pool, fc1024, dropout 0.5, fc10) is
    ``LeNet5(hidden=1024, dropout=0.5)``; there is no separate class for it.

    ``padding=2`` reproduces the TensorFlow code's "SAME" 5x5 convolutions (28x28 images give 7x7x64
    features); ``padding=0`` gives the classic valid convolutions (4x4x64 on 28x28).

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images.
        hidden: width of the hidden dense layer.
        dropout: dropout probability after the hidden dense layer.
        padding: zero padding of both 5x5 convolutions.

    Raises:
        ValueError: if ``input_size`` is too small for the convolutions and poolings.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        hidden: int = 512,
        dropout: float = 0.0,
        padding: int = 2,
    ) -> None:
        convs = [
            nn.Conv2d(in_channels, 32, 5, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        ]
        features = flat_features(nn.Sequential(*convs), in_channels, input_size, type(self).__name__)
        super().__init__(*convs, *mlp_layers(features, [hidden], num_classes, dropout))
