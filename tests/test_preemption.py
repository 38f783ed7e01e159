"""SIGTERM during a fit (a preempted cluster job) leaves a resumable checkpoint and a non-zero exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from lit_robust.callbacks.preemption import PREEMPTED_NAME, SIGTERM_EXIT_STATUS

SCRIPT = Path(sys.executable).with_name("lit-robust")


def long_fit_args(root: Path) -> list[str]:
    return [
        "fit",
        "--model=RobustClassifier",
        "--model.backbone=lit_robust.models.MLP",
        "--model.backbone.hidden_sizes=[16]",
        "--data.source=SyntheticImages",
        "--data.source.num_samples=4096",
        "--data.source.num_classes=3",
        "--data.source.in_channels=1",
        "--data.source.input_size=8",
        "--data.batch_size=4",
        "--data.val_size=0",
        "--trainer.accelerator=cpu",
        "--trainer.max_epochs=100",
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--trainer.callbacks=ModelCheckpoint",
        f"--trainer.callbacks.dirpath={root / 'checkpoints'}",
        "--trainer.callbacks.every_n_train_steps=20",
        f"--trainer.default_root_dir={root}",
    ]


def test_sigterm_mid_epoch_saves_a_resumable_checkpoint_and_exits_143(tmp_path):
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [str(SCRIPT), *long_fit_args(tmp_path)],
        cwd=tmp_path,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    checkpoints = tmp_path / "checkpoints"
    deadline = time.monotonic() + 120
    while not (checkpoints.is_dir() and any(checkpoints.iterdir())):  # training has started
        assert process.poll() is None and time.monotonic() < deadline, "the fit did not start"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == SIGTERM_EXIT_STATUS, stderr
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    saved = torch.load(checkpoints / PREEMPTED_NAME, map_location="cpu", weights_only=True)
    assert saved["global_step"] >= 20 and saved["epoch"] == 0  # mid-epoch: 1024 steps per epoch
    assert saved["optimizer_states"] and saved["loops"]["fit_loop"]["epoch_loop.batch_progress"]
