"""InterraterAgreement: Kuncheva and Whitaker's kappa, checked against Fleiss' kappa computed directly."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_robust.metrics import InterraterAgreement


def fleiss_kappa(correct: list[list[bool]]) -> float:
    """Fleiss' kappa of raters' correct/incorrect outputs; ``correct[rater][point]`` (textbook formula)."""
    raters, points = len(correct), len(correct[0])
    agreement, p_correct = 0.0, 0.0
    for j in range(points):
        right = sum(correct[i][j] for i in range(raters))
        wrong = raters - right
        agreement += (right * (right - 1) + wrong * (wrong - 1)) / (raters * (raters - 1))
        p_correct += right / (raters * points)
    observed = agreement / points
    expected = p_correct**2 + (1 - p_correct) ** 2
    return (observed - expected) / (1 - expected)


def kappa(preds: torch.Tensor, target: torch.Tensor) -> float:
    metric = InterraterAgreement(len(preds))
    metric.update(preds, target)
    return metric.compute().item()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda raters: st.lists(
            st.lists(st.booleans(), min_size=raters, max_size=raters), min_size=1, max_size=30
        )
    )
)
def test_equals_fleiss_kappa_on_oracle_outputs(columns):
    correct = torch.tensor(columns).T  # (raters, points)
    p_bar = correct.double().mean().item()
    target = torch.zeros(correct.shape[1], dtype=torch.long)
    preds = torch.where(correct, 0, 1)
    expected = 1.0 if p_bar in (0.0, 1.0) else fleiss_kappa(correct.tolist())
    assert math.isclose(kappa(preds, target), expected, rel_tol=1e-9, abs_tol=1e-12)


def test_hand_computed_example():
    # 3 raters, 4 points: l = (3, 2, 1, 0); p_bar = 6 / 12 = 0.5;
    # kappa = 1 - (1/3)(0 + 2 + 2 + 0) / (4 * 2 * 0.25) = 1 - (4/3) / 2 = 1/3.
    target = torch.tensor([0, 0, 0, 0])
    preds = torch.tensor([[0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1]])
    assert kappa(preds, target) == pytest.approx(1 / 3)


def test_identical_raters_agree_fully_and_wrong_classes_do_not_matter():
    target = torch.tensor([0, 1, 2, 3])
    same = torch.tensor([[0, 2, 2, 1]] * 4)
    assert kappa(same, target) == pytest.approx(1.0)
    different_wrong = torch.tensor([[0, 2, 2, 1], [0, 3, 2, 0], [0, 0, 2, 2], [0, 2, 2, 2]])
    assert kappa(different_wrong, target) == pytest.approx(1.0)


def test_accepts_logits_and_splitting_the_points_changes_nothing():
    torch.manual_seed(0)
    logits = torch.randn(5, 40, 3)
    target = torch.randint(0, 3, (40,))
    whole = kappa(logits, target)
    parts = [InterraterAgreement(5), InterraterAgreement(5)]
    parts[0].update(logits[:, :13], target[:13])
    parts[1].update(logits[:, 13:], target[13:])
    parts[0].merge_state(parts[1])  # what the "sum" reduction does across DDP ranks
    assert parts[0].compute().item() == pytest.approx(whole)
    assert whole < 0.5


def test_nan_before_any_point_and_shape_checks():
    metric = InterraterAgreement(3)
    assert math.isnan(metric.compute().item())
    with pytest.raises(ValueError, match="preds must be"):
        metric.update(torch.zeros(2, 4, dtype=torch.long), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="num_raters must be an integer >= 2"):
        InterraterAgreement(1)
