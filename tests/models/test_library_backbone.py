"""Adapters in random layer sampling: split per layer (or per stage), or refused with the reason."""

from __future__ import annotations

import pytest
import torch

from lit_robust.models import LayerSampledEnsemble, TimmBackbone, TorchvisionBackbone, sampling_units


def test_a_torchvision_resnet_splits_per_layer_and_per_stage():
    backbone = TorchvisionBackbone("resnet18", num_classes=3, input_size=16).eval()
    assert len(sampling_units(backbone)) == 21
    assert len(sampling_units(backbone, "stage")) == 6
    ensemble = LayerSampledEnsemble(backbone, num_models=2).eval()
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(ensemble(x, torch.zeros(ensemble.num_units, dtype=torch.long)), backbone(x))


def test_a_timm_cnn_splits_per_layer():
    pytest.importorskip("timm")
    backbone = TimmBackbone("test_resnet", in_channels=1, num_classes=3).eval()
    ensemble = LayerSampledEnsemble(backbone, num_models=2).eval()
    assert ensemble.num_units == 16
    assert ensemble(torch.rand(2, 1, 16, 16)).shape == (2, 3)


def test_what_cannot_be_split_says_why():
    pytest.importorskip("timm")
    with pytest.raises(TypeError, match=r"model \(VisionTransformer\) owns parameters"):
        sampling_units(TimmBackbone("test_vit", num_classes=3, input_size=16))
    with pytest.raises(TypeError, match="its `stages` module holds the blocks without stem and head"):
        sampling_units(TimmBackbone("test_convnext", num_classes=3), "stage")
