"""Results that describe their own columns: the declaration, its check, and how parts combine."""

from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import FGSM, DeepFool
from lit_robust.evaluation import MEASURES, Column, evaluate_robustness, make_plan
from lit_robust.evaluation.results import PointResults, merge_summaries, plan_columns


def test_every_declared_column_has_a_measure_and_the_engine_fills_exactly_them(blobs_model, blobs):
    plan = make_plan({"fgsm": FGSM(0.1), "deepfool": DeepFool(steps=5)}, [0.1])
    columns = plan_columns(plan, transfer=False)
    assert all(c.kind in MEASURES for c in columns)
    assert {Column("forward_passes"), Column("backward_passes", "fgsm"), Column("rho", "deepfool")} <= set(
        columns
    )
    report = evaluate_robustness(
        blobs_model, *blobs, {"fgsm": FGSM(0.1), "deepfool": DeepFool(steps=5)}, [0.1]
    )
    assert set(report.white_box.values) == set(columns)


def test_a_column_filled_but_not_declared_is_an_error():
    plan = make_plan({"fgsm": FGSM(0.1)}, [0.1])
    results = PointResults(False, {c: torch.ones(3, dtype=torch.bool) for c in plan_columns(plan, False)})
    results.check(plan)
    results.values[Column("robust_acc", "pgd", 0.1)] = torch.ones(3, dtype=torch.bool)
    with pytest.raises(RuntimeError, match=r"robust_acc/pgd/eps=0\.1"):
        results.check(plan)


def test_counts_add_up_over_parts_and_accuracies_are_shared():
    white_box = {Column("clean_acc"): 0.9, Column("forward_passes"): 10.0}
    transfer = {
        Column("clean_acc"): 0.9,
        Column("forward_passes"): 5.0,
        Column("transfer_acc", "a", 0.1): 0.5,
    }
    merged = merge_summaries([white_box, transfer])
    assert merged == {
        Column("clean_acc"): 0.9,
        Column("forward_passes"): 15.0,
        Column("transfer_acc", "a", 0.1): 0.5,
    }
