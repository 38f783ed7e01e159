"""Pins the private Lightning behaviour that lit_robust/lightning_internals.py relies on."""

from __future__ import annotations

import torch
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters_context

from lit_robust.defenses import RobustClassifier
from lit_robust.lightning_internals import given_hyperparameters


def test_given_hyperparameters_is_the_cli_config_inside_its_context_only():
    assert given_hyperparameters() is None
    with _given_hyperparameters_context(hparams={"num_classes": 3}, instantiator="x"):
        assert given_hyperparameters()["num_classes"] == 3
    assert given_hyperparameters() is None


def test_cli_built_modules_keep_the_backbone_config_and_python_built_ones_leave_it_out():
    args = ["--model.backbone=lit_robust.models.MLP", "--trainer.logger=false"]
    cli = LightningCLI(RobustClassifier, run=False, args=args)
    assert cli.model.hparams["backbone"]["class_path"] == "lit_robust.models.MLP"
    python_built = RobustClassifier(torch.nn.Flatten(), num_classes=2)
    assert "backbone" not in python_built.hparams and "optimizer" not in python_built.hparams
