"""Building blocks shared by the backbones: TensorFlow "SAME" convolutions and input-size checks."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Conv2dSame(nn.Conv2d):
    """A ``Conv2d`` with TensorFlow's ``padding="SAME"``: the output size is ``ceil(input / stride)``.

    As in TensorFlow, the total padding ``max((out - 1) * stride + kernel - input, 0)`` is split with the
    odd pixel at the bottom and right, which ``nn.Conv2d``'s symmetric padding cannot express.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: side of the square kernel.
        stride: stride in both directions.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride)

    def forward(self, x: Tensor) -> Tensor:
        pad_h = self._same_padding(x.shape[-2], 0)
        pad_w = self._same_padding(x.shape[-1], 1)
        return super().forward(F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2]))

    def _same_padding(self, size: int, dim: int) -> int:
        stride, kernel = self.stride[dim], self.kernel_size[dim]
        return max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)


def check_input_size(input_size: int, name: str) -> None:
    """Raises a ``ValueError`` naming the model ``name`` unless ``input_size`` is a positive integer."""
    if input_size < 1:
        raise ValueError(f"{name} needs input_size >= 1, got {input_size}.")


def flat_features(features: nn.Module, in_channels: int, input_size: int, name: str) -> int:
    """Number of values ``features`` outputs per image, found by a forward pass of one blank image.

    Args:
        features: the layers before the first dense layer.
        in_channels: channels of the input images.
        input_size: height and width of the (square) input images.
        name: the model's name, for the error message.

    Raises:
        ValueError: if the images are too small for ``features`` (a kernel or pooling window larger than
            its input).
    """
    check_input_size(input_size, name)
    try:
        with torch.no_grad():
            out = features(torch.zeros(1, in_channels, input_size, input_size))
    except RuntimeError as err:
        raise ValueError(
            f"{name}: input_size={input_size} is too small for this architecture ({err})"
        ) from err
    return out[0].numel()
