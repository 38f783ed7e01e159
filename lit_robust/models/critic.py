"""`Critic`: the adversary-critic paper's multiclass discriminator of natural and adversarial images."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lit_robust.models.layers import check_input_size


class GaussianNoise(nn.Module):
    """Adds ``N(0, std^2)`` noise to its input in training mode; the identity in eval mode.

    Args:
        std: standard deviation of the noise (0 for none).
    """

    def __init__(self, std: float) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}.")
        self.std = std

    def forward(self, x: Tensor) -> Tensor:
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x

    def extra_repr(self) -> str:
        return f"std={self.std}"


class Critic(nn.Module):
    """Flatten, noise; then for each hidden size dense, leaky ReLU, noise; then dense ``num_classes``.

    One binary critic per class: output ``D_k(x)`` is the logit of "``x`` is a natural image of class ``k``",
    and the label only selects which output is read (the paper's Figure 3). The defaults are the paper's
    critic: two layers of 1,200 units, leaky ReLU 0.2, noise std 0.1 on the input and 0.5 on each hidden
    layer's output (the authors' code; noise only in training mode here). It reads [0, 1] pixels.

    Args:
        in_channels: channels of the input images.
        num_classes: number of outputs, one per class.
        input_size: height and width of the square input images.
        hidden_sizes: widths of the hidden layers, input side first.
        input_noise: standard deviation of the Gaussian noise added to the flattened input.
        hidden_noise: standard deviation of the noise added after each hidden activation.
        negative_slope: slope of the leaky ReLU for negative inputs.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        hidden_sizes: Sequence[int] = (1200, 1200),
        input_noise: float = 0.1,
        hidden_noise: float = 0.5,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        check_input_size(input_size, type(self).__name__)
        self.num_classes = num_classes
        layers: list[nn.Module] = [nn.Flatten(), GaussianNoise(input_noise)]
        width = in_channels * input_size * input_size
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(negative_slope), GaussianNoise(hidden_noise)]
            width = hidden
        self.layers = nn.Sequential(*layers, nn.Linear(width, num_classes))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """``D_y(x)``: the logit of output ``y[i]`` for each image ``x[i]``, shape ``(batch,)``."""
        return self.layers(x).gather(1, y.unsqueeze(1)).squeeze(1)
