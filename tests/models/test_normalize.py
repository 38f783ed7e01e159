from __future__ import annotations

import pytest
import torch
from torchvision.transforms.functional import normalize as tv_normalize

from lit_robust.models import Normalize

MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.2470, 0.2435, 0.2616]


def test_matches_torchvision_and_inverts() -> None:
    x = torch.rand(2, 3, 5, 5)
    z = Normalize(MEAN, STD)(x)
    torch.testing.assert_close(z, tv_normalize(x, MEAN, STD))
    restored = z * torch.tensor(STD).view(1, 3, 1, 1) + torch.tensor(MEAN).view(1, 3, 1, 1)
    torch.testing.assert_close(restored, x)


def test_buffers_have_channel_shape_and_follow_dtype() -> None:
    layer = Normalize(MEAN, STD).to(torch.float64)
    assert set(layer.state_dict()) == {"mean", "std"}
    assert layer.mean.shape == layer.std.shape == (1, 3, 1, 1)
    assert layer(torch.rand(1, 3, 2, 2, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize(("mean", "std"), [([0.5], [0.25]), (0.5, 0.25)])
@pytest.mark.parametrize("channels", [1, 3])
def test_single_value_applies_to_every_channel(mean, std, channels: int) -> None:
    x = torch.rand(2, channels, 4, 4)
    torch.testing.assert_close(Normalize(mean, std)(x), (x - 0.5) / 0.25)


def test_single_std_broadcasts_against_per_channel_means() -> None:
    layer = Normalize(MEAN, [0.5])
    assert layer.std.flatten().tolist() == [0.5, 0.5, 0.5]
    x = torch.rand(1, 3, 2, 2)
    torch.testing.assert_close(layer(x), tv_normalize(x, MEAN, [0.5] * 3))


def test_input_gradient_is_one_over_std() -> None:
    x = torch.rand(2, 3, 4, 4, requires_grad=True)
    (grad,) = torch.autograd.grad(Normalize(MEAN, STD)(x).sum(), x)
    torch.testing.assert_close(grad, (1 / torch.tensor(STD)).view(1, 3, 1, 1).expand_as(x))


@pytest.mark.parametrize(
    ("mean", "std", "message"),
    [
        ([0.1, 0.2], [1.0, 1.0, 1.0], "2 means and 3 stds"),
        ([0.5, 0.5], [0.2, 0.0], r"std > 0"),
        ([0.5], [-1.0], r"std > 0"),
        ([], [1.0], "at least one mean and one std"),
    ],
)
def test_invalid_arguments(mean, std, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Normalize(mean, std)


def test_channel_mismatch_is_an_error_not_a_broadcast() -> None:
    with pytest.raises(ValueError, match="3 channels but the input has 1"):
        Normalize(MEAN, STD)(torch.rand(2, 1, 4, 4))
