"""sampling_units: per-layer (the paper) and per-stage splits of every backbone, and clear refusals."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models import mobilenet_v2

from lit_robust.models import (
    MLP,
    VGG16,
    LeNet5,
    PRBasicCNN,
    ResNet18,
    ResNet50,
    WideResNet,
    sampling_units,
    split_stages,
)
from lit_robust.models.sampling_units import NORMALISATIONS, WEIGHT_LAYERS


def small(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    return {
        "basic_cnn": (PRBasicCNN(), (3, 1, 28, 28)),
        "lenet": (LeNet5(hidden=32), (3, 1, 28, 28)),
        "resnet": (ResNet18(in_channels=1, num_classes=4, input_size=8), (3, 1, 8, 8)),
        "vgg": (VGG16(in_channels=1, num_classes=4, input_size=8), (3, 1, 8, 8)),
    }[name]


def owners(backbone: nn.Module) -> list[str]:
    return [name for name, m in backbone.named_modules() if any(True for _ in m.parameters(recurse=False))]


@pytest.mark.parametrize(
    ("backbone", "layers"),
    [
        (PRBasicCNN(), 4),  # 3 convolutions, 1 dense
        (LeNet5(hidden=32), 4),
        (MLP(hidden_sizes=[8, 8], input_size=4), 3),
        (ResNet18(num_classes=4, input_size=8), 21),  # stem, 16 block convolutions, 3 shortcuts, fc
        (ResNet50(num_classes=4, input_size=8), 54),  # stem, 48 block convolutions, 4 shortcuts, fc
        (VGG16(num_classes=4, input_size=8), 14),  # 13 convolutions, 1 dense
        (WideResNet(depth=10, widen_factor=1, input_size=8), 10),  # stem, 6 convs, 2 shortcuts, dense
        (mobilenet_v2(num_classes=4), 53),  # torchvision: 52 convolutions, 1 dense
    ],
)
def test_one_unit_per_weight_layer_with_its_normalisation(backbone, layers):
    units = sampling_units(backbone)
    assert len(units) == layers
    assert sorted(name for unit in units for name in unit) == sorted(owners(backbone))
    for unit in units:
        modules = [backbone.get_submodule(name) for name in unit]
        assert isinstance(modules[0], WEIGHT_LAYERS)
        assert all(isinstance(m, NORMALISATIONS) for m in modules[1:])


def test_a_batch_norm_joins_the_convolution_before_it():
    units = sampling_units(ResNet18(num_classes=4, input_size=8))
    assert units[:2] == [["conv1", "bn1"], ["layer1.0.conv1", "layer1.0.bn1"]]
    assert ["layer2.0.downsample.0", "layer2.0.downsample.1"] in units
    leading = nn.Sequential(nn.BatchNorm2d(1), nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3))
    assert sampling_units(leading) == [["0", "1"], ["3"]]


@pytest.mark.parametrize(("name", "stages"), [("basic_cnn", 4), ("lenet", 4), ("resnet", 6), ("vgg", 6)])
def test_stages_compose_to_the_backbone_and_name_every_parameter(name, stages):
    backbone, shape = small(name)
    backbone.eval()
    parts = split_stages(backbone)
    x = torch.rand(shape)
    out = x
    for part in parts:
        out = part(out)
    assert len(parts) == stages
    torch.testing.assert_close(out, backbone(x))
    units = sampling_units(backbone, "stage")
    assert len(units) == stages
    assert sorted(name for unit in units for name in unit) == sorted(owners(backbone))


def test_sequential_stages_start_at_each_layer_with_parameters():
    stages = split_stages(
        nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(), nn.Linear(3, 2))
    )
    assert [[type(m).__name__ for m in s] for s in stages] == [
        ["Flatten", "Linear", "ReLU", "Dropout"],
        ["Linear"],
    ]


def test_a_stages_method_is_used_and_must_cover_every_parameter():
    class Custom(nn.Module):
        def __init__(self, cover: bool) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2)
            self.cover = cover

        def stages(self) -> list[nn.Module]:
            return [self.a, self.b] if self.cover else [self.a]

    custom = Custom(cover=True)
    assert split_stages(custom) == [custom.a, custom.b]
    assert sampling_units(custom, "stage") == [["a"], ["b"]]
    with pytest.raises(ValueError, match=r"leave out modules with parameters: \[.b.\]"):
        sampling_units(Custom(cover=False), "stage")


def test_modules_that_cannot_be_split_are_refused_by_name():
    with pytest.raises(TypeError, match=r"1 \(Embedding\) owns parameters"):
        sampling_units(nn.Sequential(nn.Linear(2, 2), nn.Embedding(3, 2)))
    with pytest.raises(TypeError, match="stages"):
        sampling_units(nn.LSTM(2, 2), "stage")
    with pytest.raises(TypeError, match="no convolution or linear layer"):
        sampling_units(nn.Sequential(nn.LayerNorm(2)))
    with pytest.raises(ValueError, match="no parameters"):
        sampling_units(nn.ReLU())
    with pytest.raises(ValueError, match="granularity"):
        sampling_units(nn.Linear(2, 2), "block")  # type: ignore[arg-type]
