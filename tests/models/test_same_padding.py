from __future__ import annotations

import math

import pytest
import torch

from lit_robust.models import Conv2dSame


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 5, 8])
def test_output_size_is_ceil_of_input_over_stride(kernel_size: int, stride: int) -> None:
    conv = Conv2dSame(2, 4, kernel_size, stride=stride)
    for size in range(5, 12):
        out = conv(torch.rand(1, 2, size, size + 1))
        assert out.shape == (1, 4, math.ceil(size / stride), math.ceil((size + 1) / stride))


def test_odd_padding_goes_to_bottom_and_right_like_tensorflow() -> None:
    conv = Conv2dSame(1, 1, 2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.zero_()
    x = torch.arange(16.0).view(1, 1, 4, 4)
    out = conv(x)[0, 0]
    # Total padding 1 per axis: none on the top/left, so the first output sees a full 2x2 window ...
    assert out[0, 0] == x[0, 0, :2, :2].sum()
    # ... and the last one hangs over the zero padding on the bottom/right.
    assert out[-1, -1] == x[0, 0, -1, -1]
