from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

import pytest
import torch
from torch import nn

from lit_robust.models import (
    MLP,
    VGG16,
    LeNet5,
    MnistModelA,
    MnistModelB,
    MnistModelC,
    MnistModelD,
    PRBasicCNN,
    ResNet18,
    ResNet50,
    WideResNet,
)

# Each backbone in a configuration that is cheap on CPU (small options where the class has them).
BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "PRBasicCNN": PRBasicCNN,
    "LeNet5": LeNet5,
    "LeNet5-constant-perturbation": partial(LeNet5, hidden=1024, dropout=0.5),
    "LeNet5-valid": partial(LeNet5, padding=0),
    "MLP": partial(MLP, hidden_sizes=(64, 32), dropout=0.1),
    "MnistModelA": MnistModelA,
    "MnistModelB": MnistModelB,
    "MnistModelC": MnistModelC,
    "MnistModelD": MnistModelD,
    "ResNet18": ResNet18,
    "ResNet50": ResNet50,
    "VGG16": VGG16,
    "WideResNet-10-1": partial(WideResNet, depth=10, widen_factor=1, dropout=0.1),
}
SHAPES = pytest.mark.parametrize(("in_channels", "input_size"), [(1, 28), (3, 32)])

# (class, default in_channels, default input_size)
DEFAULTS = [
    (PRBasicCNN, 1, 28),
    (LeNet5, 1, 28),
    (MLP, 1, 28),
    (MnistModelA, 1, 28),
    (MnistModelB, 1, 28),
    (MnistModelC, 1, 28),
    (MnistModelD, 1, 28),
    (ResNet18, 3, 32),
    (ResNet50, 3, 32),
    (VGG16, 3, 32),
    (WideResNet, 3, 32),
]


@SHAPES
@pytest.mark.parametrize("name", BACKBONES)
def test_logits_shape_and_input_gradient(name: str, in_channels: int, input_size: int) -> None:
    model = BACKBONES[name](in_channels=in_channels, num_classes=7, input_size=input_size)
    x = torch.rand(2, in_channels, input_size, input_size, requires_grad=True)
    logits = model(x)
    assert logits.shape == (2, 7)
    (grad,) = torch.autograd.grad(logits.logsumexp(dim=1).sum(), x)
    assert torch.isfinite(grad).all()
    assert (grad.flatten(1).abs().sum(dim=1) > 0).all()


@SHAPES
@pytest.mark.parametrize("name", BACKBONES)
def test_samples_do_not_mix_in_eval_mode(name: str, in_channels: int, input_size: int) -> None:
    model = BACKBONES[name](in_channels=in_channels, num_classes=5, input_size=input_size).eval()
    x = torch.rand(3, in_channels, input_size, input_size)
    with torch.no_grad():
        batched = model(x)
        single = torch.cat([model(x[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(batched[0], batched[1])


@pytest.mark.parametrize(("cls", "in_channels", "input_size"), DEFAULTS)
def test_uniform_constructor_signature(cls: type[nn.Module], in_channels: int, input_size: int) -> None:
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params[:3]] == ["in_channels", "num_classes", "input_size"]
    assert [p.default for p in params[:3]] == [in_channels, 10, input_size]
    assert all(p.default is not inspect.Parameter.empty for p in params)


# Smallest working sizes, worked out by hand from the layer arithmetic:
# basic CNN: ceil(n/2) must be >= 14 for the 6x6/2 then 5x5 valid convolutions -> n >= 27;
# model A: n - 8 >= 1 -> n >= 9; model C: n - 4 >= 1 -> n >= 5;
# LeNet5 padding 2: n//2//2 >= 1 -> n >= 4; padding 0: ((n - 4)//2 - 4)//2 >= 1 -> n >= 16.
@pytest.mark.parametrize(
    ("factory", "smallest"),
    [
        (PRBasicCNN, 27),
        (MnistModelB, 27),
        (MnistModelA, 9),
        (MnistModelC, 5),
        (LeNet5, 4),
        (partial(LeNet5, padding=0), 16),
    ],
)
def test_too_small_input_is_a_clear_error(factory: Callable[..., nn.Module], smallest: int) -> None:
    with pytest.raises(ValueError, match=rf"input_size={smallest - 1} is too small"):
        factory(input_size=smallest - 1)
    model = factory(input_size=smallest)
    assert model(torch.rand(1, 1, smallest, smallest)).shape == (1, 10)


@pytest.mark.parametrize("cls", [MLP, ResNet18, VGG16, WideResNet])
def test_non_positive_input_size_is_an_error(cls: type[nn.Module]) -> None:
    with pytest.raises(ValueError, match=rf"{cls.__name__} needs input_size >= 1"):
        cls(input_size=0)


@pytest.mark.parametrize(("depth", "widen_factor"), [(27, 10), (4, 1), (-2, 1), (16, 0)])
def test_wide_resnet_rejects_bad_shapes(depth: int, widen_factor: int) -> None:
    with pytest.raises(ValueError, match=r"WideResNet (depth must be 6n \+ 4|widen_factor must be)"):
        WideResNet(depth=depth, widen_factor=widen_factor)


def test_resnet_stem_depends_on_input_size() -> None:
    small, large = ResNet18(in_channels=1, input_size=32), ResNet18(in_channels=1, input_size=64)
    assert small.conv1.kernel_size == (3, 3) and small.conv1.stride == (1, 1)
    assert isinstance(small.maxpool, nn.Identity)
    assert large.conv1.kernel_size == (7, 7) and large.conv1.stride == (2, 2)
    assert isinstance(large.maxpool, nn.MaxPool2d)
    assert large(torch.rand(1, 1, 64, 64)).shape == (1, 10)


def test_dropout_is_active_only_in_training() -> None:
    model = LeNet5(hidden=1024, dropout=0.5)
    x = torch.rand(2, 1, 28, 28)
    assert not torch.equal(model.train()(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))
