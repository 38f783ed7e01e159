"""`DefendedModel`: transform, normalisation and backbone, in that order."""

from __future__ import annotations

import torch
from torch import nn

from lit_robust.models import DefendedModel, Normalize


def test_applies_the_transform_then_the_normalisation_then_the_backbone():
    backbone = nn.Flatten()
    model = DefendedModel(backbone, mean=[0.5], std=[0.25], transform=nn.Hardtanh(0.0, 0.5))
    x = torch.rand(3, 1, 2, 2)
    expected = ((x.clamp(0.0, 0.5) - 0.5) / 0.25).flatten(1)
    torch.testing.assert_close(model(x), expected)
    assert isinstance(model.normalize, Normalize) and model.backbone is backbone


def test_freeze_stops_parameter_gradients_and_keeps_input_gradients():
    model = DefendedModel(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), 0.5, 0.5).freeze()
    x = torch.rand(2, 1, 2, 2, requires_grad=True)
    model(x).sum().backward()
    assert not model.training and x.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())


def test_network_skips_the_transform():
    model = DefendedModel(nn.Flatten(), 0.5, 0.25, transform=nn.Hardtanh(0.0, 0.5))
    x = torch.rand(3, 1, 2, 2)
    torch.testing.assert_close(model.network(x), ((x - 0.5) / 0.25).flatten(1))
