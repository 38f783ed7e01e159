"""Randomised defenses are judged by a majority of draws in the callbacks, as in ``evaluate_robustness``."""

from __future__ import annotations

import pytest

from lit_robust.attacks import FGSM
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.defenses import VariablePerturbations
from lit_robust.models import MLP
from tests.callbacks.conftest import NUM_CLASSES, make_data, make_trainer


def noisy_model(data, phase: str) -> VariablePerturbations:
    backbone = MLP(in_channels=1, num_classes=NUM_CLASSES, input_size=8, hidden_sizes=[32])
    model = VariablePerturbations(
        backbone, eps=0.3, phase=phase, num_classes=NUM_CLASSES, mean=list(data.mean), std=list(data.std)
    )
    return model.eval()


@pytest.mark.parametrize(("phase", "randomized"), [("train", False), ("test", True), ("both", True)])
def test_noise_at_test_time_makes_the_defense_randomized(phase, randomized):
    model = noisy_model(make_data(), phase)
    assert model.randomized is randomized
    callback = RobustnessEvaluation({"fgsm": FGSM(0.1)}, draws=3)
    assert callback.votes(model) == (3 if randomized else None)


def test_the_callback_judges_every_prediction_by_a_vote_over_draws(tmp_path):
    data = make_data()
    model = noisy_model(data, "test")
    callback = RobustnessEvaluation(
        {"fgsm": FGSM(0.1)}, [0.1], num_samples=16, batch_size=16, draws=3, log_images=False, log_figure=False
    )
    logged = make_trainer(tmp_path, callbacks=[callback]).validate(model, datamodule=data, verbose=False)[0]
    # Clean judgement (3 draws of 16 points) and the judgement of the attacked points (3 draws each) come on
    # top of FGSM's own pass: at least 3 x 16 forward passes, which a single-draw judgement stays below.
    assert logged["val/robust_eval/forward_passes"] >= 3 * 16 + 16
    assert 0.0 <= logged["val/robust_acc/fgsm/eps=0.1"] <= logged["val/robust_eval/clean_acc"] <= 1.0


def test_draws_must_be_positive():
    with pytest.raises(ValueError, match="draws"):
        RobustnessEvaluation({"fgsm": FGSM(0.1)}, draws=0)
