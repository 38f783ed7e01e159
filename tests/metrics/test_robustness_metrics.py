"""`RobustAccuracy` and `Rho`: exact counts and sums."""

from __future__ import annotations

import math

import pytest
import torch

from lit_robust.metrics import Rho, RobustAccuracy, relative_l2


def test_robust_accuracy_counts_over_updates():
    metric = RobustAccuracy()
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert math.isnan(metric.compute().item())
    metric.update(torch.tensor([True, False, True]))
    metric.update(torch.tensor([False, False]))
    assert metric.robust.item() == 2 and metric.total.item() == 5
    assert metric.compute().item() == pytest.approx(0.4)
    metric.reset()
    metric.update(torch.ones(4, dtype=torch.bool))
    assert metric.compute().item() == 1.0


def test_robust_accuracy_needs_a_boolean_mask():
    with pytest.raises(TypeError, match="boolean mask"):
        RobustAccuracy().update(torch.tensor([1.0, 0.0]))


def test_rho_leaves_out_failed_points_and_counts_misclassified_as_zero():
    metric = Rho()
    metric.update(torch.tensor([0.2, float("nan"), 0.0]))
    metric.update(torch.tensor([0.4]))
    assert metric.count.item() == 3 and metric.total.dtype == torch.float64
    assert metric.compute().item() == pytest.approx(0.2)
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert math.isnan(Rho().compute().item())


def test_relative_l2():
    x = torch.zeros(2, 1, 2, 2)
    x[:, 0, 0, 0] = torch.tensor([0.6, 0.8])
    x[:, 0, 1, 1] = torch.tensor([0.8, 0.6])
    x_adv = x.clone()
    x_adv[0, 0, 0, 1] = 0.5
    torch.testing.assert_close(relative_l2(x_adv, x), torch.tensor([0.5, 0.0]))
