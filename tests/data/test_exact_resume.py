"""A run resumed from a checkpoint is bit-identical to an uninterrupted run of the same seed (CPU)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_robust.attacks import PGD
from lit_robust.data import ConstantPerturbations, ImageDataModule
from lit_robust.defenses import AdversarialTraining
from lit_robust.models import MLP
from tests.synthetic import synthetic_data


def synthetic(**overrides: object) -> ImageDataModule:
    settings = {
        "num_samples": 96, "num_test_samples": 8, "num_classes": 3, "in_channels": 1, "input_size": 8,
        "batch_size": 16, "val_size": 16, "augment": True,
    }  # fmt: skip
    return synthetic_data(**{**settings, **overrides})


def mlp(dropout: float = 0.3) -> MLP:
    return MLP(in_channels=1, num_classes=3, input_size=8, hidden_sizes=[16], dropout=dropout)


def base_run() -> tuple[L.LightningModule, ImageDataModule]:
    # dropout, random PGD starts without a generator, a train-mode attack and augmentation: every kind of
    # draw from the global RNG, besides the shuffling
    model = AdversarialTraining(mlp(), attack=PGD(0.1, steps=2), attack_mode="train", num_classes=3)
    return model, synthetic()


def steps_run() -> tuple[L.LightningModule, ImageDataModule]:
    model, _ = base_run()
    return model, synthetic(steps=[ConstantPerturbations(copies=2, eps=0.1, progress=False)])


RUNS = {"base": base_run, "steps": steps_run}


def fit(root: Path, max_epochs: int, run: str, ckpt_path: Path | None = None) -> L.LightningModule:
    L.seed_everything(0)  # as lit-robust does in every fresh process
    model, data = RUNS[run]()
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=max_epochs, logger=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=root, num_sanity_val_steps=0,
        callbacks=[ModelCheckpoint(dirpath=root / "checkpoints", save_last=True)],
        reload_dataloaders_every_n_epochs=1,  # Lightning then iterates each loader twice, a resumed run once
    )  # fmt: skip
    trainer.fit(model, data, ckpt_path=ckpt_path, weights_only=True)
    return model


@pytest.mark.filterwarnings("ignore:You are trying to `self.log", "ignore:.*does not have many workers")
@pytest.mark.parametrize("run", sorted(RUNS))
def test_resuming_from_last_gives_the_weights_of_an_uninterrupted_run(tmp_path, run):
    uninterrupted = fit(tmp_path / "a", max_epochs=3, run=run)
    fit(tmp_path / "b", max_epochs=2, run=run)
    last = tmp_path / "b" / "checkpoints" / "last.ckpt"
    resumed = fit(tmp_path / "c", max_epochs=3, run=run, ckpt_path=last)
    for (name, a), b in zip(uninterrupted.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} differs after resuming"
