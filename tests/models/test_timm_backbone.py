"""TimmBackbone: timm models by name (the optional extra), for the data's channels, classes and size."""

from __future__ import annotations

import pytest
import torch

from lit_robust.models import TimmBackbone

pytest.importorskip("timm")


@pytest.mark.parametrize("in_channels", [1, 3])
def test_a_small_cnn_for_the_data(in_channels):
    backbone = TimmBackbone("test_resnet", in_channels=in_channels, num_classes=3, input_size=16)
    assert backbone(torch.rand(2, in_channels, 16, 16)).shape == (2, 3)


def test_a_vit_gets_the_image_size_and_a_cnn_does_not():
    vit = TimmBackbone("test_vit", in_channels=1, num_classes=3, input_size=16)
    assert vit.model.patch_embed.img_size == (16, 16)
    assert vit(torch.rand(2, 1, 16, 16)).shape == (2, 3)


def test_an_unknown_name_lists_similar_ones():
    with pytest.raises(ValueError, match=r"timm has no model 'test_resnot'; similar names: .*'test_resnet'"):
        TimmBackbone("test_resnot")


def test_weights_from_a_lightning_checkpoint(tmp_path):
    source = TimmBackbone("test_resnet", in_channels=1, num_classes=3)
    state = {f"backbone.{k}": v for k, v in source.state_dict().items()}
    torch.save({"state_dict": state}, tmp_path / "last.ckpt")
    target = TimmBackbone("test_resnet", checkpoint_path=tmp_path / "last.ckpt", in_channels=1, num_classes=3)
    torch.testing.assert_close(target.state_dict(), source.state_dict())
