"""``worst_case_only``: the grid's bounded attacks as a cascade that gives their worst case alone."""

from __future__ import annotations

import math

import pytest
from torch import Tensor, nn

from lit_robust.attacks import BIM, FGSM, PGD, DeepFool
from lit_robust.evaluation import Column, evaluate_robustness, make_plan
from lit_robust.evaluation.results import plan_columns

EPSILONS = [0.02, 0.05, 0.1, 0.2]


class CountRows(nn.Module):
    """Counts the points the model is called on (each attack step and each prediction)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.rows = 0

    def forward(self, x: Tensor) -> Tensor:
        self.rows += len(x)
        return self.model(x)


def evaluate(model: nn.Module, blobs, attacks: dict, worst_case_only: bool):
    counted = CountRows(model)
    report = evaluate_robustness(counted, *blobs, attacks, EPSILONS, worst_case_only=worst_case_only)
    return report, counted.rows


def test_deterministic_attacks_give_the_same_worst_case_for_less_work(blobs_model, blobs):
    attacks = {"fgsm": FGSM(0.1), "bim": BIM(0.1, steps=10), "deepfool": DeepFool(steps=20)}
    full, full_rows = evaluate(blobs_model, blobs, attacks, worst_case_only=False)
    cascade, cascade_rows = evaluate(blobs_model, blobs, attacks, worst_case_only=True)
    for eps in EPSILONS:
        assert cascade.accuracy("worst", eps) == full.accuracy("worst", eps)
        assert Column("robust_acc", "bim", eps) not in cascade.summary
    assert cascade.accuracy("deepfool", math.inf) == full.accuracy("deepfool", math.inf)  # L2: not cascaded
    assert full.accuracy("worst", 0.2) < full.accuracy("worst", 0.05) < full.clean_accuracy
    assert cascade_rows < 0.9 * full_rows


def test_randomised_attacks_give_the_same_or_a_lower_worst_case_within_noise(blobs_model, blobs):
    attacks = {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=10, random_start=True)}
    full, _ = evaluate(blobs_model, blobs, attacks, worst_case_only=False)
    cascade, _ = evaluate(blobs_model, blobs, attacks, worst_case_only=True)
    for eps in EPSILONS:
        assert cascade.accuracy("worst", eps) <= full.accuracy("worst", eps) + 0.02


def test_only_the_worst_case_columns_of_the_cascade_are_planned():
    attacks = {"fgsm": FGSM(0.1), "pgd": PGD(0.1), "pgd_l2": PGD(1.0, norm="L2"), "deepfool": DeepFool()}
    epsilons = {"Linf": [0.1, 0.2], "L2": [1.0]}
    plan = make_plan(attacks, epsilons, worst_case_only=True)
    assert [p.name for p in plan.cascade] == ["fgsm", "pgd"]
    names = {c.name for c in plan_columns(plan, transfer=False)}
    assert {"robust_acc/worst/eps=0.1", "robust_acc/pgd_l2/eps=1", "robust_acc/deepfool/eps=inf"} <= names
    assert not any(n.startswith(("robust_acc/fgsm", "robust_acc/pgd/")) for n in names)
    assert make_plan(attacks, epsilons).cascade == ()


@pytest.mark.parametrize("worst_case_only", [False, True])
def test_the_worst_case_never_rises_with_epsilon(blobs_model, blobs, worst_case_only):
    report, _ = evaluate(blobs_model, blobs, {"fgsm": FGSM(0.1), "bim": BIM(0.1, steps=5)}, worst_case_only)
    curve = [report.accuracy("worst", eps) for eps in EPSILONS]
    assert curve == sorted(curve, reverse=True)
