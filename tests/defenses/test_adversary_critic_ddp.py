"""Two CPU processes (DDP, gloo) run the manual-optimisation steps and stay in sync."""

from __future__ import annotations

import copy
import sys
from functools import partial
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.strategies import DDPStrategy
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from lit_robust.defenses import AdversaryCritic
from lit_robust.models import MLP, Critic


class SaveState(L.Callback):
    """Each rank saves its module's state (weights and confidence buffers) at the end of training."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state = {k: v.detach().cpu() for k, v in pl_module.state_dict().items()}
        torch.save(
            (trainer.world_size, trainer.global_step, state), self.directory / f"{trainer.global_rank}.pt"
        )


@pytest.mark.skipif(sys.platform == "win32", reason="gloo process groups on CPU")
def test_two_processes_train_the_critic_game_in_sync(tmp_path):
    torch.manual_seed(0)
    defense = AdversaryCritic(
        MLP(1, 3, 4, [16]),
        Critic(1, 3, 4, [16, 16]),
        num_classes=3,
        optimizer=partial(torch.optim.Adam, lr=1e-3, betas=(0.5, 0.999)),
        lr_scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5),
    )
    initial = {k: v.clone() for k, v in defense.state_dict().items()}
    x = torch.rand(64, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    loader = DataLoader(TensorDataset(x, torch.arange(64) % 3), batch_size=8)
    trainer = L.Trainer(
        max_epochs=2, limit_train_batches=2, accelerator="cpu", devices=2, logger=False,
        strategy=DDPStrategy(find_unused_parameters=True, start_method="spawn"),
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[SaveState(tmp_path)], default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(defense, loader)
    (size0, steps0, rank0), (size1, steps1, rank1) = (torch.load(tmp_path / f"{r}.pt") for r in (0, 1))
    assert size0 == size1 == 2
    assert steps0 == steps1 > 0
    for name, value in rank0.items():
        torch.testing.assert_close(rank1[name], value, msg=name)  # gradients and confidences synced
    for part in ("model.backbone.", "critic."):
        assert any(not torch.equal(rank0[k], initial[k]) for k in rank0 if k.startswith(part)), part
    assert rank0["confidence_updates"] == 4  # 2 epochs x 2 steps


class Halves(L.LightningDataModule):
    """32 points in batches of 16 on one process; on two, each takes half of each batch, in order."""

    def train_dataloader(self) -> DataLoader:
        x = torch.rand(32, 1, 4, 4, generator=torch.Generator().manual_seed(0))
        dataset = TensorDataset(x, torch.arange(32) % 3)
        if self.trainer.world_size == 1:
            return DataLoader(dataset, batch_size=16)
        sampler = DistributedSampler(
            dataset, self.trainer.world_size, self.trainer.global_rank, shuffle=False
        )
        return DataLoader(dataset, batch_size=16 // self.trainer.world_size, sampler=sampler)


def train_steps(defense: AdversaryCritic, directory: Path, devices: int) -> dict[str, torch.Tensor]:
    """Two steps on the same 32 points, on one process or on two; rank 0's final state."""
    strategy = DDPStrategy(find_unused_parameters=True, start_method="spawn") if devices > 1 else "auto"
    trainer = L.Trainer(
        max_epochs=1, limit_train_batches=2, accelerator="cpu", devices=devices, strategy=strategy,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[SaveState(directory)], default_root_dir=directory,
    )  # fmt: skip
    trainer.fit(defense, datamodule=Halves())
    return torch.load(directory / "0.pt")[2]


@pytest.mark.skipif(sys.platform == "win32", reason="gloo process groups on CPU")
def test_two_processes_take_the_steps_of_one_process_on_both_halves(tmp_path):
    """The means over the changed points are global: two processes with half batches each take the same
    steps as one process with the whole batches (a mean of per-process means would not)."""
    torch.manual_seed(0)
    defense = AdversaryCritic(
        MLP(1, 3, 4, [16]),
        Critic(1, 3, 4, [16, 16], input_noise=0.0, hidden_noise=0.0),  # deterministic
        num_classes=3,
        pretrain_epochs=0,
        optimizer=partial(torch.optim.SGD, lr=0.5),
        critic_optimizer=partial(torch.optim.SGD, lr=0.5),
    )
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = train_steps(copy.deepcopy(defense), tmp_path / "one", devices=1)
    two = train_steps(defense, tmp_path / "two", devices=2)
    for name, value in one.items():
        torch.testing.assert_close(two[name], value, msg=name, rtol=1e-3, atol=1e-3)
