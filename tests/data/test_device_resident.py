"""``device_resident``: the splits on the trainer's device, batches indexed there, the CPU path's sampling.

The "device" is the CPU in these tests, so they check the logic that a GPU run relies on: the same batches
as the ordinary path for the same seed, a step's dataset moved there too, and one ``DistributedSampler``
shard per DDP rank.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.trainer.states import RunningStage
from lightning.pytorch.utilities.data import _update_dataloader
from torch.utils.data import DistributedSampler

from lit_robust.data import ConstantPerturbations
from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP
from tests.data.test_datamodule import IndexedImages

pytestmark = pytest.mark.filterwarnings("ignore:The number of training batches")


class RecordBatches(L.Callback):
    """Records the image ids of every training batch; with ``path``, each rank writes them to a file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.batches: list[list[int]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.batches.append((batch[0][:, 0, 0, 0] * 255).round().long().tolist())

    def on_train_end(self, trainer, pl_module) -> None:
        if self.path is not None:
            (self.path / f"rank{trainer.global_rank}.json").write_text(json.dumps(self.batches))


def fit(tmp_path: Path, data: L.LightningDataModule, epochs: int = 2, **trainer_args) -> RecordBatches:
    L.seed_everything(0, verbose=False)
    model = RobustClassifier(MLP(1, 10, 8, [8]), num_classes=10)
    recorder = RecordBatches(trainer_args.pop("record_to", None))
    settings = dict(accelerator="cpu", devices=1, max_epochs=epochs, limit_val_batches=0, logger=False)
    settings |= dict(enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer = L.Trainer(default_root_dir=tmp_path, callbacks=[recorder], **(settings | trainer_args))
    trainer.fit(model, datamodule=data)
    return recorder


def test_device_resident_needs_the_main_process():
    with pytest.raises(ValueError, match="num_workers to 0"):
        IndexedImages(device_resident=True, num_workers=2)


def test_loaders_give_the_same_batches_in_the_same_order(tmp_path):
    plain = fit(tmp_path, IndexedImages(batch_size=16, val_size=10))
    resident = fit(tmp_path, IndexedImages(batch_size=16, val_size=10, device_resident=True))
    assert resident.batches == plain.batches
    assert len(plain.batches) == 2 * 6 and plain.batches[0] != plain.batches[6]  # 90 images, reshuffled


def test_the_split_moves_to_the_trainers_device_once_per_loader():
    data = IndexedImages(batch_size=16, device_resident=True)
    data.setup("fit")
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False)
    data.trainer = trainer
    loader = data.train_dataloader()
    assert loader.num_workers == 0 and loader.dataset.images.device == trainer.strategy.root_device
    images, _ = next(iter(loader))
    assert images.dtype == torch.uint8 and images.shape == (16, 1, 8, 8)


def test_a_steps_dataset_is_served_from_the_device_with_the_same_batches(tmp_path):
    def perturbed(**kwargs) -> L.LightningDataModule:
        step = ConstantPerturbations(copies=1, eps=2 / 255, progress=False)
        return IndexedImages(batch_size=16, val_size=10, steps=[step], **kwargs)

    resident_data = perturbed(device_resident=True)
    resident_data.setup("fit")
    resident_data.trainer = L.Trainer(accelerator="cpu", devices=1, logger=False)
    assert resident_data.train_dataloader().dataset is not resident_data.train_data  # moved with ``to``
    plain = fit(tmp_path, perturbed())
    resident = fit(tmp_path, perturbed(device_resident=True))
    assert resident.batches == plain.batches and len(resident.batches) == 2 * 12


def test_lightning_can_give_the_loader_a_distributed_sampler():
    """What Lightning's DDP does to a training loader (``_prepare_dataloader`` in its data connector)."""
    data = IndexedImages(batch_size=8, val_size=10, device_resident=True)
    data.setup("fit")
    data.trainer = L.Trainer(accelerator="cpu", devices=1, logger=False)
    loader = data.train_dataloader()
    ids = data.train_data[0][:, 0, 0, 0].tolist()
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(loader.dataset, num_replicas=2, rank=rank, shuffle=True, seed=0)
        shard = _update_dataloader(loader, sampler, mode=RunningStage.TRAINING)
        assert shard.dataset is loader.dataset and shard.num_workers == 0
        got = [i for images, _ in shard for i in images[:, 0, 0, 0].tolist()]
        assert got == [ids[i] for i in sampler]
        seen += got
    assert sorted(seen) == sorted(ids)


@pytest.mark.slow  # two spawned processes; under heavy load a spawned rank has aborted at exit once
@pytest.mark.skipif(sys.platform == "win32", reason="gloo process groups on CPU")
def test_each_ddp_rank_gets_its_distributed_sampler_shard(tmp_path):
    data = IndexedImages(batch_size=8, val_size=10, device_resident=True)
    fit(tmp_path, data, epochs=1, devices=2, strategy="ddp_spawn", record_to=tmp_path)
    shards = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    data.setup("fit")
    ids = data.train_data[0][:, 0, 0, 0].tolist()
    for rank, batches in enumerate(shards):
        sampler = DistributedSampler(ids, num_replicas=2, rank=rank, shuffle=True, seed=0)
        expected = [ids[i] for i in sampler]
        assert [i for batch in batches for i in batch] == expected
    seen = [i for batches in shards for batch in batches for i in batch]
    assert sorted(seen) == sorted(ids)  # 90 images over 2 ranks: disjoint halves, no padding
