"""`MLP`: the adversary-critic paper's fully connected classifier, and the dense head other models share."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from lit_robust.models.layers import check_input_size


def mlp_layers(
    in_features: int, hidden_sizes: Sequence[int], num_classes: int, dropout: float = 0.0
) -> list[nn.Module]:
    """``[Linear, ReLU, Dropout]`` for each hidden size, then a ``Linear`` to ``num_classes`` logits.

    The dropout layer is kept even when ``dropout`` is 0, so state-dict keys do not depend on it.
    """
    layers: list[nn.Module] = []
    for width in hidden_sizes:
        layers += [nn.Linear(in_features, width), nn.ReLU(), nn.Dropout(dropout)]
        in_features = width
    return [*layers, nn.Linear(in_features, num_classes)]


class MLP(nn.Sequential):
    """Flatten, then ReLU dense layers, then dense ``num_classes``.

    The defaults are the adversary-critic paper's fully connected network (3 x 1200, ReLU, no dropout);
    AT2L's MNIST model D is ``hidden_sizes=(300, 300, 300), dropout=0.5`` (:class:`MnistModelD`).

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images.
        hidden_sizes: widths of the hidden layers, input side first.
        dropout: dropout probability after each hidden layer's ReLU.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        hidden_sizes: Sequence[int] = (1200, 1200, 1200),
        dropout: float = 0.0,
    ) -> None:
        check_input_size(input_size, type(self).__name__)
        in_features = in_channels * input_size * input_size
        super().__init__(nn.Flatten(), *mlp_layers(in_features, hidden_sizes, num_classes, dropout))
