"""TorchvisionBackbone: any torchvision model by name for the data's channels, classes and size."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from lit_robust.models import TorchvisionBackbone, split_stages
from lit_robust.models.torchvision_backbone import replace_head, replace_stem


def test_a_resnet_for_grey_images_and_three_classes():
    backbone = TorchvisionBackbone("resnet18", in_channels=1, num_classes=3, input_size=16)
    assert backbone.model.conv1.in_channels == 1
    assert backbone(torch.rand(2, 1, 16, 16)).shape == (2, 3)
    assert len(split_stages(backbone)) == 6  # the wrapped ResNet's stem, four layers and head


def test_a_vit_gets_the_image_size():
    backbone = TorchvisionBackbone("vit_b_16", num_classes=3, input_size=32, model_kwargs={"dropout": 0.0})
    assert backbone.model.image_size == 32
    assert backbone(torch.rand(1, 3, 32, 32)).shape == (1, 3)


def test_stem_and_head_of_pretrained_weights_are_replaced():
    model = resnet18()
    rgb = model.conv1.weight.detach().clone()
    replace_stem(model, 1)
    replace_head(model, 3)
    torch.testing.assert_close(model.conv1.weight, rgb.sum(dim=1, keepdim=True))
    assert (model.conv1.stride, model.fc.out_features) == ((2, 2), 3)
    with pytest.raises(ValueError, match=r"no nn\.Linear head"):
        replace_head(nn.Sequential(nn.Conv2d(3, 3, 1)), 3)


def test_weights_from_a_local_file_of_the_bare_torchvision_model(tmp_path):
    source = resnet18(num_classes=3)
    torch.save(source.state_dict(), tmp_path / "resnet18.pt")
    backbone = TorchvisionBackbone(
        "resnet18", checkpoint_path=tmp_path / "resnet18.pt", num_classes=3, strict_weights=True
    )
    torch.testing.assert_close(backbone.model.state_dict(), source.state_dict())
