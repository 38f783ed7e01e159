"""Two CPU processes (DDP, gloo) log exactly the single-process val/acc and val/loss on a validation set
that does not divide by two: the evaluation shards are not padded."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from tests.callbacks.conftest import make_data, make_model, make_trainer


class WriteMetrics(L.Callback):
    """Writes the logged metrics to a JSON file from global rank 0 at the end of validation."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
            sampler = type(trainer.val_dataloaders.sampler).__name__
            self.path.write_text(json.dumps({"metrics": metrics, "sampler": sampler}))


def validate(tmp_path: Path, devices: int) -> dict:
    torch.manual_seed(0)
    data = make_data(val_size=37)  # rank 0: 19 points, rank 1: 18 (a padded sampler repeats one)
    out = tmp_path / f"metrics_{devices}.json"
    trainer = make_trainer(
        tmp_path,
        devices=devices,
        strategy="ddp_spawn" if devices > 1 else "auto",
        callbacks=[WriteMetrics(out)],
    )
    trainer.validate(make_model(data), datamodule=data, verbose=False)
    return json.loads(out.read_text())


@pytest.mark.skipif(sys.platform == "win32", reason="gloo process groups on CPU")
def test_val_acc_and_loss_are_the_single_process_values(tmp_path):
    single, ddp = validate(tmp_path, 1), validate(tmp_path, 2)
    assert ddp["sampler"] == "ShardSampler"
    assert ddp["metrics"]["val/acc"] == single["metrics"]["val/acc"]  # counts: exactly equal
    assert ddp["metrics"]["val/loss"] == pytest.approx(single["metrics"]["val/loss"], rel=1e-6)
