"""The L2 random starts: uniform in the ball (default), on the sphere (the authors' APGD), uniform radius."""

from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import flat_norm
from lit_robust.attacks.per_point import random_start


@pytest.mark.parametrize(("l2_start", "mean_radius"), [("ball", 784 / 785), ("sphere", 1.0), ("radius", 0.5)])
def test_l2_start_radii(l2_start: str, mean_radius: float) -> None:
    x = torch.full((4000, 1, 28, 28), 0.5)
    eps = 0.5  # small enough that no pixel leaves the box: the radii are the drawn ones
    start = random_start(x, eps, "L2", torch.Generator().manual_seed(0), l2_start)  # type: ignore[arg-type]
    radius = flat_norm(start - x, "L2") / eps
    assert (radius <= 1 + 1e-6).all()
    assert abs(radius.mean().item() - mean_radius) < 0.02
    if l2_start == "radius":  # uniform radius: a tenth of the starts within a tenth of eps
        assert abs((radius < 0.1).float().mean().item() - 0.1) < 0.02


def test_per_point_radii() -> None:
    x = torch.full((3, 1, 4, 4), 0.5)
    eps = torch.tensor([0.0, 0.1, 0.2])
    start = random_start(x, eps, "Linf", torch.Generator().manual_seed(0))
    assert (flat_norm(start - x, "Linf") <= eps + 1e-7).all() and torch.equal(start[0], x[0])
