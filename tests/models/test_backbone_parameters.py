"""Parameter counts of the papers' configurations, derived here from the layer sizes."""

from __future__ import annotations

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


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    return c_in * c_out * k * k + (c_out if bias else 0)


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def bn(c: int) -> int:
    return 2 * c


def test_basic_cnn_and_model_b() -> None:
    convs = conv(1, 64, 8) + conv(64, 128, 6) + conv(128, 128, 5)
    # 28 -> 14 (SAME, stride 2) -> (14 - 6) // 2 + 1 = 5 -> 5 - 5 + 1 = 1
    assert count(PRBasicCNN()) == count(MnistModelB()) == convs + dense(128 * 1 * 1, 10)
    # 32 -> 16 -> 6 -> 2
    colour = conv(3, 64, 8) + conv(64, 128, 6) + conv(128, 128, 5) + dense(128 * 2 * 2, 10)
    assert count(PRBasicCNN(in_channels=3, input_size=32)) == colour


def test_lenet5_configurations() -> None:
    convs = conv(1, 32, 5) + conv(32, 64, 5)
    # padding 2 keeps 28, pools give 14 then 7
    assert count(LeNet5()) == convs + dense(64 * 7 * 7, 512) + dense(512, 10)
    assert count(LeNet5(hidden=1024, dropout=0.5)) == convs + dense(64 * 7 * 7, 1024) + dense(1024, 10)
    # valid: 28 -> 24 -> 12 -> 8 -> 4
    assert count(LeNet5(padding=0)) == convs + dense(64 * 4 * 4, 512) + dense(512, 10)


def test_mlps() -> None:
    assert count(MLP()) == dense(784, 1200) + 2 * dense(1200, 1200) + dense(1200, 10)
    assert count(MnistModelD()) == dense(784, 300) + 2 * dense(300, 300) + dense(300, 10)
    assert count(MnistModelD(num_hidden_layers=4)) == count(MnistModelD()) + dense(300, 300)


def test_models_a_and_c() -> None:
    # A: 28 -> 24 -> 20; C: 28 -> 26 -> 24
    a = conv(1, 64, 5) + conv(64, 64, 5) + dense(64 * 20 * 20, 128) + dense(128, 10)
    c = conv(1, 128, 3) + conv(128, 64, 3) + dense(64 * 24 * 24, 128) + dense(128, 10)
    assert count(MnistModelA()) == a
    assert count(MnistModelC()) == c


def resnet_count(block: str, blocks: list[int], in_channels: int, num_classes: int) -> int:
    total = conv(in_channels, 64, 3, bias=False) + bn(64)
    c_in = 64
    for stage, n in enumerate(blocks):
        planes = 64 * 2**stage
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            if block == "basic":
                c_out = planes
                total += (
                    conv(c_in, planes, 3, False) + bn(planes) + conv(planes, planes, 3, False) + bn(planes)
                )
            else:
                c_out = 4 * planes
                total += conv(c_in, planes, 1, False) + conv(planes, planes, 3, False) + bn(planes) * 2
                total += conv(planes, c_out, 1, False) + bn(c_out)
            if stride != 1 or c_in != c_out:
                total += conv(c_in, c_out, 1, False) + bn(c_out)
            c_in = c_out
    return total + dense(c_in, num_classes)


def test_resnets() -> None:
    assert count(ResNet18()) == resnet_count("basic", [2, 2, 2, 2], 3, 10) == 11_173_962
    assert count(ResNet18(in_channels=1, num_classes=7)) == resnet_count("basic", [2, 2, 2, 2], 1, 7)
    assert count(ResNet50()) == resnet_count("bottleneck", [3, 4, 6, 3], 3, 10) == 23_520_842


def test_vgg16() -> None:
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    pairs = zip([3, *widths[:-1]], widths, strict=True)
    convs = sum(conv(c_in, c_out, 3) + bn(c_out) for c_in, c_out in pairs)
    expected = convs + dense(512, 10)
    assert count(VGG16()) == expected == 14_728_266


def wrn_count(depth: int, k: int, in_channels: int, num_classes: int) -> int:
    n = (depth - 4) // 6
    widths = [16, 16 * k, 32 * k, 64 * k]
    total = conv(in_channels, 16, 3, bias=False)
    for g in range(3):
        for i in range(n):
            c_in, c_out = (widths[g] if i == 0 else widths[g + 1]), widths[g + 1]
            total += bn(c_in) + conv(c_in, c_out, 3, False) + bn(c_out) + conv(c_out, c_out, 3, False)
            if c_in != c_out or (g > 0 and i == 0):
                total += conv(c_in, c_out, 1, False)
    return total + bn(widths[3]) + dense(widths[3], num_classes)


def test_wide_resnets() -> None:
    assert count(WideResNet(depth=10, widen_factor=1)) == wrn_count(10, 1, 3, 10)
    assert count(WideResNet(in_channels=1, depth=16, widen_factor=2)) == wrn_count(16, 2, 1, 10)
    # The constant-perturbation paper's CIFAR-10 model, WRN-28-10 (36.5M parameters): one forward pass.
    wrn = WideResNet(depth=28, widen_factor=10, dropout=0.1)
    assert count(wrn) == wrn_count(28, 10, 3, 10) == 36_479_194
    with torch.no_grad():
        assert wrn.eval()(torch.rand(1, 3, 32, 32)).shape == (1, 10)
