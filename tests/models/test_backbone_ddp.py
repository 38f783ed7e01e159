"""Two CPU processes (DDP, gloo) train a timm model through its adapter and stay in sync."""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.strategies import DDPStrategy
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.attacks import FGSM
from lit_robust.defenses import AdversarialTraining
from lit_robust.models import TimmBackbone


class SaveState(L.Callback):
    """Each rank saves its backbone's parameters (not the per-rank BatchNorm statistics) after training."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state = {k: v.detach().cpu() for k, v in pl_module.backbone.named_parameters()}
        torch.save((trainer.world_size, state), self.directory / f"{trainer.global_rank}.pt")


@pytest.mark.skipif(sys.platform == "win32", reason="gloo process groups on CPU")
def test_two_processes_train_a_timm_backbone_in_sync(tmp_path):
    pytest.importorskip("timm")
    torch.manual_seed(0)
    backbone = TimmBackbone("test_resnet", in_channels=1, num_classes=3, input_size=8)
    defense = AdversarialTraining(backbone, attack=FGSM(0.05), num_classes=3)
    initial = {k: v.clone() for k, v in backbone.state_dict().items()}
    x = torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    loader = DataLoader(TensorDataset(x, torch.arange(32) % 3), batch_size=4)
    trainer = L.Trainer(
        max_steps=2, accelerator="cpu", devices=2, logger=False,
        strategy=DDPStrategy(start_method="spawn"),
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[SaveState(tmp_path)], default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(defense, loader)
    (size0, rank0), (size1, rank1) = (torch.load(tmp_path / f"{r}.pt") for r in (0, 1))
    assert size0 == size1 == 2
    for name, value in rank0.items():
        torch.testing.assert_close(rank1[name], value, msg=name)
    assert not torch.equal(rank0["model.fc.weight"], initial["model.fc.weight"])
