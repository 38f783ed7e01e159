"""check_backbone_fits: a backbone that cannot take the data's images or classes is named with the fix."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.models import LayerSampledEnsemble, LeNet5, check_backbone_fits


def test_a_fitting_backbone_passes_and_keeps_its_mode_and_the_random_state():
    backbone = LayerSampledEnsemble(LeNet5(in_channels=1, num_classes=3, input_size=28))
    state = torch.get_rng_state()
    check_backbone_fits(backbone, in_channels=1, input_size=28, num_classes=3)
    assert backbone.training
    assert torch.equal(torch.get_rng_state(), state)


def test_a_stem_for_other_channels_names_in_channels_and_the_adapters():
    with pytest.raises(ValueError, match=r"takes 3-channel images .* 1-channel images: set .* in_channels"):
        check_backbone_fits(LeNet5(in_channels=3), in_channels=1, input_size=28, num_classes=10)


def test_a_head_of_another_size_names_num_classes():
    with pytest.raises(ValueError, match=r"outputs of shape \(10,\) per image, but the data has 3 classes"):
        check_backbone_fits(LeNet5(num_classes=10), in_channels=1, input_size=28, num_classes=3)


def test_another_failure_names_the_input_size():
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    with pytest.raises(ValueError, match=r"cannot take the data's 1x8x8 images .*\(input_size, image_size"):
        check_backbone_fits(backbone, in_channels=1, input_size=8, num_classes=3)
