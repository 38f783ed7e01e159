"""A run resumed from a checkpoint is bit-identical to an uninterrupted run of the same seed (CPU)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_robust.attacks import PGD
from lit_robust.data import InMemoryImageDataModule, SyntheticImages
from lit_robust.data.constant_perturbations import ConstantPerturbations
from lit_robust.defenses import AdversarialTraining
from lit_robust.models import MLP


def make_data(wrapped: bool) -> InMemoryImageDataModule:
    base = SyntheticImages(
        num_samples=96, num_test_samples=8, num_classes=3, in_channels=1, input_size=8, batch_size=16,
        val_size=16, augment=True,
    )  # fmt: skip
    return ConstantPerturbations(base, copies=2, eps=0.1, augment=True, progress=False) if wrapped else base


def make_model() -> AdversarialTraining:
    # dropout, random PGD starts without a generator, a train-mode attack and augmentation: every kind of
    # draw from the global RNG, besides the shuffling
    backbone = MLP(in_channels=1, num_classes=3, input_size=8, hidden_sizes=[16], dropout=0.3)
    return AdversarialTraining(backbone, attack=PGD(0.1, steps=2), attack_mode="train", num_classes=3)


def fit(root: Path, max_epochs: int, wrapped: bool, ckpt_path: Path | None = None) -> AdversarialTraining:
    L.seed_everything(0)  # as lit-robust does in every fresh process
    model = make_model()
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=max_epochs, logger=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=root, num_sanity_val_steps=0,
        callbacks=[ModelCheckpoint(dirpath=root / "checkpoints", save_last=True)],
    )  # fmt: skip
    trainer.fit(model, make_data(wrapped), ckpt_path=ckpt_path, weights_only=True)
    return model


@pytest.mark.parametrize("wrapped", [False, True], ids=["base", "wrapper"])
def test_resuming_from_last_gives_the_weights_of_an_uninterrupted_run(tmp_path, wrapped):
    uninterrupted = fit(tmp_path / "a", max_epochs=3, wrapped=wrapped)
    fit(tmp_path / "b", max_epochs=2, wrapped=wrapped)
    last = tmp_path / "b" / "checkpoints" / "last.ckpt"
    resumed = fit(tmp_path / "c", max_epochs=3, wrapped=wrapped, ckpt_path=last)
    for (name, a), b in zip(uninterrupted.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} differs after resuming"
