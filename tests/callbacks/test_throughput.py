"""`TrainingThroughput`: steady-state images per second, by wall time or by the process's CPU time."""

from __future__ import annotations

import pytest

from lit_robust.callbacks import TrainingThroughput
from tests.callbacks.conftest import make_data, make_model, make_trainer


def test_bad_arguments_raise_errors_naming_them():
    with pytest.raises(ValueError, match="warmup_batches"):
        TrainingThroughput(warmup_batches=-1)
    with pytest.raises(ValueError, match="clock must be 'wall' or 'process'"):
        TrainingThroughput(clock="cpu")


@pytest.mark.parametrize("clock", ["wall", "process"])
def test_logs_images_per_second_of_the_timed_batches(tmp_path, clock):
    data = make_data(num_samples=200, val_size=8)  # 192 training images: 6 batches of 32
    throughput = TrainingThroughput(warmup_batches=2, clock=clock)
    trainer = make_trainer(tmp_path, max_epochs=1, limit_val_batches=0, callbacks=[throughput])
    trainer.fit(make_model(data), datamodule=data)
    assert throughput._images == 4 * 32  # batches 2 to 5
    assert throughput.images_per_second > 0
    assert trainer.callback_metrics["train/images_per_second"] == pytest.approx(throughput.images_per_second)
