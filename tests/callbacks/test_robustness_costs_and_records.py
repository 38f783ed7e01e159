"""`RobustnessEvaluation`: pass counts, per-point records, and AutoAttack presets by name."""

from __future__ import annotations

import copy
import csv

import pytest
from jsonargparse import ArgumentParser

from lit_robust.attacks import FGSM, PGD
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.evaluation import evaluate_robustness
from tests.callbacks.conftest import first_points, make_trainer

EPSILONS = [0.05, 0.1]


def attacks() -> dict:
    return {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=5)}


def test_logs_the_pass_counts_and_saves_the_records_of_evaluate_robustness(tmp_path, data, trained):
    model = copy.deepcopy(trained)
    callback = RobustnessEvaluation(
        attacks(), EPSILONS, num_samples=30, batch_size=12, log_images=False, records_dir=str(tmp_path / "r")
    )
    results = make_trainer(tmp_path, callbacks=[callback]).validate(model, datamodule=data, verbose=False)[0]
    x, y = first_points(data.val_data, 30)
    report = evaluate_robustness(model, x, y, attacks(), EPSILONS, batch_size=12)
    for attack in ("", "fgsm", "pgd"):
        suffix = f"/{attack}" if attack else ""
        forward, backward = report.passes(attack)
        assert results[f"val/robust_eval/forward_passes{suffix}"] == forward
        assert results[f"val/robust_eval/backward_passes{suffix}"] == backward
    assert 0 < report.passes()[1] < report.passes()[0]
    rows = list(csv.DictReader((tmp_path / "r" / "val_epoch=0.csv").open()))
    expected = report.records.rows()
    assert len(rows) == 30 and [r["broken_by"] for r in rows] == [r["broken_by"] for r in expected]
    assert [float(r["broken_eps"]) for r in rows] == [r["broken_eps"] for r in expected]


def test_a_preset_is_chosen_by_name_as_in_a_config():
    parser = ArgumentParser()
    parser.add_class_arguments(RobustnessEvaluation, "callback")
    config = parser.parse_object({"callback": {"preset": "fast", "epsilons": [0.03, 0.1]}})
    callback = parser.instantiate_classes(config).callback
    assert callback.plan.worst_case_only and callback.plan.cascade[0].name == "apgd-t-nearest"
    assert all(p.attack.eps == 0.1 for p in callback.plan.attacks)
    with pytest.raises(ValueError, match="needs epsilons"):
        RobustnessEvaluation(preset="standard")
    with pytest.raises(ValueError, match="taken by preset"):
        RobustnessEvaluation({"apgd-ce": FGSM(0.1)}, [0.1], preset="standard")
    assert not RobustnessEvaluation(attacks(), [0.1]).plan.worst_case_only


def test_a_named_evaluation_logs_beside_an_unnamed_one(tmp_path, data, trained):
    model = copy.deepcopy(trained)
    plain = RobustnessEvaluation(attacks(), EPSILONS, num_samples=20, log_images=False, log_figure=False)
    named = RobustnessEvaluation(
        {"fgsm": FGSM(0.1)}, EPSILONS, num_samples=20, log_images=False, log_figure=False, name="second",
        records_dir=str(tmp_path / "r"),
    )  # fmt: skip
    results = make_trainer(tmp_path, callbacks=[plain, named]).validate(
        model, datamodule=data, verbose=False
    )[0]
    for eps in EPSILONS:
        assert results[f"val/second/robust_acc/fgsm/eps={eps}"] == results[f"val/robust_acc/fgsm/eps={eps}"]
    assert "val/second/robust_acc/pgd/eps=0.1" not in results
    assert results["val/second/robust_eval/clean_acc"] == results["val/robust_eval/clean_acc"]
    assert (tmp_path / "r" / "val_second_epoch=0.csv").exists()
    with pytest.raises(ValueError, match="name must be"):
        RobustnessEvaluation(attacks(), EPSILONS, name="a/b")
