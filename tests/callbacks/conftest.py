"""Tiny synthetic data and a small classifier trained on it, for the callback tests."""

from __future__ import annotations

import copy

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from lit_robust.data import ImageDataModule
from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP
from tests.synthetic import synthetic_data

NUM_CLASSES = 4


def make_data(**overrides: object) -> ImageDataModule:
    settings = {
        "num_samples": 256, "num_test_samples": 40, "num_classes": NUM_CLASSES, "in_channels": 1,
        "input_size": 8, "noise_std": 0.15, "batch_size": 32, "eval_batch_size": 8, "val_size": 37,
    }  # fmt: skip
    return synthetic_data(**{**settings, **overrides})


def make_model(data: ImageDataModule) -> RobustClassifier:
    backbone = MLP(in_channels=1, num_classes=NUM_CLASSES, input_size=8, hidden_sizes=[32])
    return RobustClassifier(backbone, num_classes=NUM_CLASSES, mean=list(data.mean), std=list(data.std))


def make_trainer(tmp_path, **overrides: object) -> L.Trainer:
    settings = {
        "accelerator": "cpu", "devices": 1, "logger": False, "enable_checkpointing": False,
        "enable_progress_bar": False, "enable_model_summary": False, "default_root_dir": tmp_path,
    }  # fmt: skip
    return L.Trainer(**{**settings, **overrides})


@pytest.fixture(scope="package")
def data() -> ImageDataModule:
    data = make_data()
    data.setup("fit")
    data.setup("test")
    return data


@pytest.fixture(scope="package")
def trained_once(data: ImageDataModule) -> RobustClassifier:
    """The classifier after 60 Adam steps on the training split, in eval mode (never given to a Trainer)."""
    torch.manual_seed(0)
    model = make_model(data)
    images, labels = data.train_data
    x = images.float() / 255
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()
    return model.eval()


@pytest.fixture
def trained(trained_once: RobustClassifier) -> RobustClassifier:
    """A fresh copy of :func:`trained_once` per test: a Trainer leaves state on the module (Lightning's cache
    of metric attributes by ``id``, which a later ``deepcopy`` would carry over with stale ids)."""
    return copy.deepcopy(trained_once)


def first_points(split: tuple[torch.Tensor, torch.Tensor], count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` points of a datamodule split as the device sees them (floats in [0, 1])."""
    images, labels = split
    return images[:count].float() / 255, labels[:count]
