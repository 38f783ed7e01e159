"""`PixelRedrawnCases`: the logged cases equal `evaluate_cases` on the same points."""

from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import FGSM
from lit_robust.callbacks import PixelRedrawnCases
from lit_robust.callbacks.pixel_redrawn_cases import case_key
from lit_robust.defenses import PixelRedrawnClassifier
from lit_robust.evaluation import evaluate_cases
from lit_robust.models import MLP, PixelRedrawer
from tests.callbacks.conftest import NUM_CLASSES, first_points, make_trainer

CASES = ["normal", "A", "B", "C (paper)", "D (adaptive)"]


def test_cases_of_a_model_without_pr_match_evaluate_cases(tmp_path, data, trained):
    redrawer = PixelRedrawer(steps=300, seed=0)
    attacks = {"fgsm": FGSM(0.1)}
    callback = PixelRedrawnCases(attacks, [0.1], CASES, redrawer=redrawer, eot_samples=2, num_samples=24)
    torch.manual_seed(7)
    make_trainer(tmp_path).test(trained, datamodule=data, verbose=False)
    without = torch.random.get_rng_state()
    torch.manual_seed(7)
    results = make_trainer(tmp_path, callbacks=[callback]).test(trained, datamodule=data, verbose=False)[0]
    assert torch.equal(torch.random.get_rng_state(), without), "the cases changed the global RNG"
    x, y = first_points(data.test_data, 24)
    reports = evaluate_cases(trained, redrawer, x, y, attacks, [0.1], CASES, eot_samples=2, seed=0)
    for case, report in reports.items():
        for column, value in report.summary.items():
            assert results[f"test/pr_cases/{case_key(case)}/{column.name}"] == pytest.approx(value, abs=1e-6)
    assert "test/pr_cases/A/transfer_acc/fgsm/eps=0.1" in results
    assert "test/pr_cases/D_adaptive/robust_acc/fgsm/eps=0.1" in results


def test_a_pr_model_brings_its_own_redrawer(tmp_path, data):
    backbone = MLP(in_channels=1, num_classes=NUM_CLASSES, input_size=8, hidden_sizes=[16])
    model = PixelRedrawnClassifier(
        backbone, PixelRedrawer(steps=300), num_classes=NUM_CLASSES, mean=list(data.mean), std=list(data.std)
    )
    callback = PixelRedrawnCases({}, cases=["normal", "B"], num_samples=16)
    results = make_trainer(tmp_path, callbacks=[callback]).validate(model, datamodule=data, verbose=False)[0]
    assert {"val/pr_cases/normal/clean_acc", "val/pr_cases/B/clean_acc"} <= set(results)


def test_a_model_without_pr_needs_a_redrawer(tmp_path, data, trained):
    with pytest.raises(TypeError, match="needs a redrawer"):
        make_trainer(tmp_path, callbacks=[PixelRedrawnCases({})]).validate(trained, datamodule=data)


def test_unknown_cases_are_refused():
    with pytest.raises(ValueError, match="cases must be"):
        PixelRedrawnCases({}, cases=["E"])
