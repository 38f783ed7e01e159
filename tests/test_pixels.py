"""`to_unit_range`: uint8 to [0, 1] floats, floats unchanged."""

from __future__ import annotations

import torch

from lit_robust.pixels import to_unit_range


def test_maps_uint8_to_the_unit_range_and_passes_floats():
    images = torch.tensor([0, 51, 255], dtype=torch.uint8)
    torch.testing.assert_close(to_unit_range(images), torch.tensor([0.0, 0.2, 1.0]))
    floats = torch.rand(3)
    assert to_unit_range(floats) is floats
