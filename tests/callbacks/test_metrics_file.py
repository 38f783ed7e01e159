"""`MetricsFile`: the logged numbers of each stage, and the evaluated set sizes, in one JSON file."""

from __future__ import annotations

import json

import pytest

from lit_robust.attacks import FGSM
from lit_robust.callbacks import MetricsFile, RobustnessEvaluation
from tests.callbacks.conftest import make_model, make_trainer


def test_fit_and_validate_numbers_are_written(tmp_path, data, trained):
    path = tmp_path / "run" / "metrics.json"
    robustness = RobustnessEvaluation({"fgsm": FGSM(0.1)}, num_samples=20, log_images=False, log_figure=False)
    trainer = make_trainer(tmp_path, max_epochs=1, limit_train_batches=2, callbacks=[MetricsFile(str(path))])
    trainer.fit(make_model(data), datamodule=data)
    results = make_trainer(tmp_path, callbacks=[robustness, MetricsFile(str(path))]).validate(
        trained, datamodule=data, verbose=False
    )[0]
    stored = json.loads(path.read_text())
    assert set(stored["fit"]) >= {"train/loss", "val/acc"}
    assert stored["validate"] == pytest.approx(results)
    assert stored["points"] == {"dataset": len(data.val_data[1]), "0:RobustnessEvaluation": 20}


def test_the_default_file_is_in_the_log_dir(tmp_path, data, trained):
    callback = MetricsFile()
    trainer = make_trainer(tmp_path, callbacks=[callback])
    trainer.test(trained, datamodule=data, verbose=False)
    assert callback.file(trainer) == tmp_path / "metrics.json"
    assert "test/acc" in json.loads(callback.file(trainer).read_text())["test"]
