"""Two CPU processes (DDP, gloo) log exactly the single-process numbers on the same points."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import lightning as L
import pytest

from lit_robust.attacks import FGSM, PGD, DeepFool
from lit_robust.callbacks import RobustnessEvaluation
from tests.callbacks.conftest import make_trainer

EPSILONS = [0.02, 0.05, 0.1]


class WriteMetrics(L.Callback):
    """Writes the logged metrics to a JSON file from global rank 0 at the end of validation."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if "seconds" not in k}
            self.path.write_text(json.dumps({"world_size": trainer.world_size, "metrics": metrics}))


def run(tmp_path: Path, data, model, devices: int) -> dict:
    # 37 validation points, 2 ranks: the DistributedSampler pads rank 1 with a repeat of point 0, which
    # must not count; num_samples above the set size takes all 37. Blocks of 10: rank 0 attacks blocks 0
    # and 2, rank 1 blocks 1 and 3. PGD starts at random points, seeded per block.
    callback = RobustnessEvaluation(
        {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=5), "deepfool": DeepFool(steps=20)},
        EPSILONS,
        num_samples=50,
        batch_size=10,
        log_images=False,
    )
    out = tmp_path / f"metrics_{devices}.json"
    strategy = "ddp_spawn" if devices > 1 else "auto"
    trainer = make_trainer(
        tmp_path, devices=devices, strategy=strategy, callbacks=[callback, WriteMetrics(out)]
    )
    trainer.validate(copy.deepcopy(model), datamodule=data, verbose=False)
    return json.loads(out.read_text())


@pytest.mark.skipif(sys.platform == "win32", reason="gloo process groups on CPU")
def test_two_processes_log_the_single_process_numbers(tmp_path, data, trained):
    single, ddp = run(tmp_path, data, trained, 1), run(tmp_path, data, trained, 2)
    assert ddp["world_size"] == 2
    robust = {k: v for k, v in single["metrics"].items() if "robust_acc" in k or "clean_acc" in k}
    assert len(robust) == 1 + 3 * 3 + 1  # clean, fgsm/pgd/worst x 3 eps, deepfool (L2) at eps=inf
    for name, value in robust.items():
        assert ddp["metrics"][name] == value, name  # counts summed across ranks: exactly equal
    assert ddp["metrics"]["val/rho/deepfool"] == pytest.approx(
        single["metrics"]["val/rho/deepfool"], rel=1e-9
    )
    assert 0 < robust["val/robust_acc/worst/eps=0.1"] < robust["val/robust_eval/clean_acc"]
