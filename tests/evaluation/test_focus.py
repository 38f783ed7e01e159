"""`Closest`: a cascade attack spent only on the still-robust points with the smallest margins."""

from __future__ import annotations

import math

import pytest
import torch

from lit_robust.attacks import PGD
from lit_robust.evaluation import evaluate_robustness
from lit_robust.evaluation.focus import Closest, closest_points
from tests.evaluation.conftest import FlagAttack


def test_only_the_smallest_margins_are_chosen_and_nan_chooses_all():
    index = torch.tensor([0, 2, 3, 5])
    margin = torch.tensor([0.5, 9.0, 0.1, 3.0, 9.0, 0.2], dtype=torch.float64)
    assert closest_points(index, margin, 0.5, correct=4).tolist() == [2, 5]
    assert closest_points(index, margin, 0.3, correct=4).tolist() == [2, 5]  # ceil(1.2) = 2
    assert closest_points(index, margin, 0.2, correct=6).tolist() == [2, 5]  # a share of 6 correct points
    assert closest_points(index, margin, 0.5, correct=10).tolist() == [0, 2, 3, 5]  # fewer left: all
    assert closest_points(index, margin.clone().fill_(math.nan), 0.5, correct=4).tolist() == [0, 2, 3, 5]


def test_in_a_cascade_it_attacks_a_share_of_the_correct_points_or_all_survivors(code):
    model, x, y = code
    for share in (0.1, 0.9):
        first, second = FlagAttack(0.3, flag=1), FlagAttack(0.3, flag=2)
        attacks = {"first": first, "second": Closest(second, share)}
        report = evaluate_robustness(model, x, y, attacks, [0.3], batch_size=1000, worst_case_only=True)
        correct = int(report.white_box.clean.sum())
        survivors = int((report.white_box.clean & ~(x[:, 0, 0, 1] > 0.5)).sum())
        assert survivors < 0.9 * correct  # the shares below and above the survivors are both tested
        assert second.calls == [min(math.ceil(share * correct), survivors)]
    alone = evaluate_robustness(model, x, y, {"second": Closest(FlagAttack(0.3, flag=2), 0.25)}, [0.3])
    assert alone.passes("second")[0] == int(
        alone.white_box.clean.sum()
    )  # outside a cascade: every point judged


def test_it_keeps_the_attack_radius_norm_and_early_stopping():
    wrapped = Closest(PGD(0.1, steps=5), 0.5)
    assert (wrapped.eps, wrapped.norm, wrapped.early_stop) == (0.1, "Linf", False)
    assert wrapped.with_eps(0.2).eps == 0.2 and wrapped.with_eps(0.2).margin_fraction == 0.5
    wrapped.early_stop = True
    assert wrapped.attack.early_stop
    with pytest.raises(ValueError, match="fraction"):
        Closest(PGD(0.1), 0.0)
