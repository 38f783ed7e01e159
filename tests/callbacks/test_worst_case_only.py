"""`RobustnessEvaluation(worst_case_only=True)`: the cascade's worst case, as evaluate_robustness logs it."""

from __future__ import annotations

import copy

import pytest

from lit_robust.attacks import FGSM, PGD, DeepFool
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.evaluation import evaluate_robustness
from tests.callbacks.conftest import first_points, make_trainer

EPSILONS = [0.02, 0.05, 0.1]


def attacks() -> dict:
    return {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=5), "deepfool": DeepFool(steps=20)}


def test_logs_the_worst_case_of_the_cascade_and_no_per_attack_curves_for_it(tmp_path, data, trained):
    model = copy.deepcopy(trained)
    callback = RobustnessEvaluation(
        attacks(), EPSILONS, num_samples=30, batch_size=12, log_images=False, worst_case_only=True
    )
    results = make_trainer(tmp_path, callbacks=[callback]).validate(model, datamodule=data, verbose=False)[0]
    x, y = first_points(data.val_data, 30)
    report = evaluate_robustness(model, x, y, attacks(), EPSILONS, batch_size=12, worst_case_only=True)
    for eps in EPSILONS:
        assert results[f"val/robust_acc/worst/eps={eps:g}"] == pytest.approx(report.accuracy("worst", eps))
        assert f"val/robust_acc/pgd/eps={eps:g}" not in results
    assert "val/robust_acc/deepfool/eps=inf" in results  # minimum-norm attacks keep their own columns
    assert results["val/robust_acc/worst/eps=0.1"] < results["val/robust_eval/clean_acc"]
