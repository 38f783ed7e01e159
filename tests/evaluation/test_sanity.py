"""Sanity flags fire on crafted failures (gradient masking, a weakened attack) and stay quiet otherwise."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import BIM, FGSM, PGD
from lit_robust.evaluation import SanityCheckWarning, evaluate_robustness
from lit_robust.evaluation.sanity import ITERATIVE_WEAKER, NO_DECREASE, TRANSFER_STRONGER, UNBOUNDED_NOT_ZERO

EPSILONS = [0.05, 0.1, 0.2]


class Quantised(nn.Module):
    """Gradient masking: the input is rounded to 5 levels before the model, so input gradients are zero."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(torch.round(x * 4) / 4)


def checks(report) -> set[str]:
    return {flag.check for flag in report.flags}


def warned(record) -> set[str]:
    """The checks named by the SanityCheckWarnings of a ``pytest.warns`` record."""
    return {w.message.args[0].split("'")[1] for w in record if issubclass(w.category, SanityCheckWarning)}


def test_a_sound_evaluation_raises_no_flag(blobs_model, blobs):
    x, y = blobs
    attacks = {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=10)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", SanityCheckWarning)
        report = evaluate_robustness(blobs_model, x, y, attacks, EPSILONS, sanity_checks=True)
    assert report.flags == []
    assert report.accuracy("worst", 1.0) == 0.0  # the added unbounded epsilon


def test_gradient_masking_is_flagged(blobs_model, blobs):
    x, y = blobs
    masked = Quantised(blobs_model)
    attacks = {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=10, random_start=False)}
    with pytest.warns(SanityCheckWarning) as record:
        report = evaluate_robustness(masked, x, y, attacks, EPSILONS, sanity_checks=True)
    assert checks(report) == warned(record) == {UNBOUNDED_NOT_ZERO, NO_DECREASE}


def test_an_iterative_attack_weaker_than_fgsm_is_flagged(blobs_model, blobs):
    x, y = blobs
    attacks = {"fgsm": FGSM(0.1), "weak_bim": BIM(0.1, steps=10, step_size=1e-4)}
    with pytest.warns(SanityCheckWarning) as record:
        report = evaluate_robustness(blobs_model, x, y, attacks, EPSILONS, sanity_checks=True)
    # the weakened BIM's curve is also flat; FGSM still breaks every point at eps 1
    assert checks(report) == warned(record) == {ITERATIVE_WEAKER, NO_DECREASE}
    assert any("'weak_bim' (10 steps)" in str(w.message) for w in record)


def test_transfer_beating_white_box_is_flagged(blobs_model, blobs):
    x, y = blobs
    masked = Quantised(blobs_model)
    with pytest.warns(SanityCheckWarning) as record:
        report = evaluate_robustness(
            masked, x, y, {"pgd": PGD(0.2, steps=10)}, [0.2], source=blobs_model, sanity_checks=True
        )
    assert report.accuracy("pgd", 0.2, transfer=True) < report.accuracy("pgd", 0.2) - 0.1
    assert checks(report) == warned(record) == {TRANSFER_STRONGER, UNBOUNDED_NOT_ZERO}


def test_checks_are_off_by_default(blobs_model, blobs):
    x, y = blobs
    report = evaluate_robustness(Quantised(blobs_model), x, y, {"pgd": PGD(0.1, steps=3)}, EPSILONS)
    assert report.flags == [] and report.plan.grid == tuple(EPSILONS)
