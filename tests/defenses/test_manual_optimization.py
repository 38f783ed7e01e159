"""`ManualOptimizationDefense`: a subclass writes its losses and steps; the base logs and schedules."""

from __future__ import annotations

from functools import partial

import lightning as L
import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.defenses.manual_optimization import ManualOptimizationDefense, OptimizedPart
from lit_robust.defenses.robust_classifier import TrainingOutput


class TwoHeads(ManualOptimizationDefense):
    """A classifier and an auxiliary head, each with its own optimiser; the head starts after epoch 0."""

    def __init__(self, head_scheduler=None, **kwargs) -> None:
        super().__init__(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), num_classes=3, **kwargs)
        self.head = nn.Linear(16, 1)
        self.head_scheduler = head_scheduler

    def optimized_parts(self) -> list[OptimizedPart]:
        return [
            OptimizedPart(self.backbone.parameters(), self.optimizer_factory, self.lr_scheduler_factory),
            OptimizedPart(self.head.parameters(), partial(torch.optim.SGD, lr=0.1), self.head_scheduler),
        ]

    def manual_training_step(self, x: Tensor, y: Tensor) -> TrainingOutput:
        classifier, head = self.optimizers()
        self.optimize(head, lambda: {"head_loss": self.head(x.flatten(1)).square().mean()}, "head_loss")
        logits = self(x)
        parts = self.optimize(classifier, lambda: {"loss": self.classification_loss(logits, y)})
        return TrainingOutput(parts["loss"], logits)

    def schedulers_running(self) -> bool:
        return self.current_epoch >= 1


def fit(model: ManualOptimizationDefense, epochs: int) -> L.Trainer:
    x = torch.rand(32, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    trainer = L.Trainer(
        max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, DataLoader(TensorDataset(x, torch.arange(32) % 3), batch_size=16))
    return trainer


def test_the_base_builds_the_optimisers_logs_the_step_and_steps_the_schedulers_while_running():
    halve = partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    model = TwoHeads(optimizer=partial(torch.optim.SGD, lr=0.4), lr_scheduler=halve, head_scheduler=halve)
    trainer = fit(model, epochs=3)
    assert trainer.global_step == 12  # 3 epochs x 2 batches x 2 optimiser steps
    assert [o.param_groups[0]["lr"] for o in trainer.optimizers] == pytest.approx([0.1, 0.025])
    assert {"train/loss", "train/acc"} <= set(trainer.callback_metrics)


def test_a_plateau_scheduler_is_refused():
    model = TwoHeads(head_scheduler=torch.optim.lr_scheduler.ReduceLROnPlateau)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        model.configure_optimizers()
