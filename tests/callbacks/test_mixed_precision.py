"""A ``bf16-mixed`` fit: adversarial training and the evaluation callback under Lightning's autocast."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from lit_robust.attacks import PGD, project
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.defenses import AdversarialTraining
from lit_robust.models import MLP
from tests.callbacks.conftest import NUM_CLASSES, make_data, make_trainer

pytestmark = pytest.mark.filterwarnings("ignore:The number of training batches")


class AutocastSpy(PGD):
    """PGD that records, per call, whether autocast was on and whether its result kept the threat model."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[bool, torch.dtype, bool]] = []

    def __call__(self, model, x: Tensor, y: Tensor, **kwargs: object) -> Tensor:
        x_adv = super().__call__(model, x, y, **kwargs)
        exact = torch.equal(project(x_adv, x, self.eps, self.norm), x_adv)
        self.calls.append((torch.is_autocast_enabled("cpu"), x_adv.dtype, exact))
        return x_adv

    def with_eps(self, eps: float) -> AutocastSpy:
        clone = super().with_eps(eps)
        clone.calls = self.calls  # sweep copies share the record
        return clone


def test_bf16_mixed_fit_runs_training_attack_and_evaluation_under_autocast(tmp_path):
    data = make_data()
    torch.manual_seed(0)
    backbone = MLP(in_channels=1, num_classes=NUM_CLASSES, input_size=8, hidden_sizes=[32])
    training_attack = AutocastSpy(0.05, steps=2)
    model = AdversarialTraining(
        backbone, training_attack, num_classes=NUM_CLASSES, mean=list(data.mean), std=list(data.std)
    )
    evaluation_attack = AutocastSpy(0.05, steps=3)
    callback = RobustnessEvaluation(
        {"pgd": evaluation_attack}, [0.02, 0.05], num_samples=16, log_images=False
    )
    trainer = make_trainer(
        tmp_path, precision="bf16-mixed", max_epochs=1, limit_train_batches=2, callbacks=[callback]
    )
    trainer.fit(model, datamodule=data)
    for calls in (training_attack.calls, evaluation_attack.calls):
        assert calls and all(call == (True, torch.float32, True) for call in calls)
    metrics = trainer.callback_metrics
    assert torch.isfinite(metrics["train/loss"])
    assert 0 <= metrics["val/robust_acc/pgd/eps=0.05"] <= metrics["val/robust_eval/clean_acc"] <= 1
    assert metrics["val/robust_eval/seconds"] > 0
