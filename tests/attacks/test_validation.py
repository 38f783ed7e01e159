"""Clear errors for wrong attack settings (wrong inputs: tests/test_validation.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import (
    APGD,
    EAD,
    EOT,
    PGD,
    Attack,
    CarliniWagnerL2,
    DeepFool,
    Expectation,
    HighConfidence,
)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PGD(-0.1), "eps must be a finite number >= 0"),
        (lambda: PGD(0.1, norm="L3"), "norm must be one of"),
        (lambda: PGD(0.1, steps=0), "steps must be > 0"),
        (lambda: PGD(0.1, restarts=0), "restarts must be > 0"),
        (lambda: PGD(0.1, targeted=True, target="furthest"), "target must be one of"),
        (lambda: APGD(0.1, loss="hinge"), "loss must be one of"),
        (lambda: APGD(0.1, norm="L1"), "norm must be one of"),
        (lambda: CarliniWagnerL2(c=0.0), "c must be > 0"),
        (lambda: EAD(decision_rule="L2"), "decision_rule must be one of"),
        (lambda: DeepFool(max_step_norm=0.0), "max_step_norm must be > 0"),
        (lambda: HighConfidence(confidence=1.5), r"confidence must lie in \(0, 1\]"),
        (lambda: EOT(PGD(0.1), samples=0), "samples must be >= 1"),
        (lambda: Expectation(nn.Identity(), samples=0), "samples must be >= 1"),
    ],
)
def test_bad_settings_are_rejected_at_construction(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("attack", "classes", "message"),
    [
        (APGD(0.1, steps=2, loss="dlr"), 2, "DLR loss needs at least 3 classes, the model returns 2"),
        (APGD(0.1, steps=2, loss="dlr", targeted=True), 3, "targeted DLR loss needs at least 4 classes"),
    ],
)
def test_dlr_needs_enough_classes(attack: Attack, classes: int, message: str) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, classes))
    with pytest.raises(ValueError, match=message):
        attack(model, torch.rand(2, 1, 2, 2), torch.tensor([0, 1]))


def test_modes_are_restored_when_the_model_fails() -> None:
    class Failing(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            self.eval()  # a model that switches its own mode, then fails
            raise RuntimeError("boom")

    model = Failing().train()
    with pytest.raises(RuntimeError, match="boom"):
        PGD(0.1, steps=1)(model, torch.rand(2, 4), torch.tensor([0, 1]))
    assert model.training
