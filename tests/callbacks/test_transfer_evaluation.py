"""`TransferEvaluation`: sources from CLI checkpoints and modules, and clear errors for bad checkpoints."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lit_robust.attacks import FGSM, PGD
from lit_robust.callbacks import RobustnessEvaluation, TransferEvaluation, load_source
from lit_robust.cli import run_cli
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import DefendedModel
from tests.callbacks.conftest import NUM_CLASSES, first_points, make_data, make_model, make_trainer

EPSILONS = [0.05, 0.1]


def attacks() -> dict:
    return {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=5)}


@pytest.fixture(scope="module")
def cli_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint written by ``lit-robust fit`` (one epoch on the same synthetic distribution)."""
    root = tmp_path_factory.mktemp("cli")
    run_cli([
        "fit",
        "--model=RobustClassifier",
        "--model.backbone=lit_robust.models.MLP",
        "--model.backbone.hidden_sizes=[16]",
        "--data.source=SyntheticImages",
        *(f"--data.source.{k}={v}" for k, v in {"num_samples": 256, "num_classes": NUM_CLASSES,
                                                 "in_channels": 1, "input_size": 8, "noise_std": 0.15}.items()
          ),
        "--data.batch_size=32",
        "--trainer.accelerator=cpu",
        "--trainer.max_epochs=1",
        "--trainer.logger=false",
        f"--trainer.default_root_dir={root}",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--trainer.callbacks=ModelCheckpoint",
        f"--trainer.callbacks.dirpath={root}",
        "--trainer.callbacks.filename=source",
    ])  # fmt: skip
    return root / "source.ckpt"


def test_a_cli_checkpoint_is_the_source(tmp_path, data, trained, cli_checkpoint):
    callback = TransferEvaluation(str(cli_checkpoint), attacks(), EPSILONS, num_samples=30, batch_size=16)
    results = make_trainer(tmp_path, callbacks=[callback]).validate(trained, datamodule=data, verbose=False)
    source = load_source(cli_checkpoint)
    assert isinstance(source, DefendedModel) and source.backbone[1].out_features == 16 and not source.training
    x, y = first_points(data.val_data, 30)
    report = evaluate_robustness(trained, x, y, attacks(), EPSILONS, batch_size=16, source=source)
    for name in ("pgd", "fgsm", "worst"):
        for eps in EPSILONS:
            key = f"val/transfer_acc/{name}/eps={eps:g}"
            assert results[0][key] == pytest.approx(report.accuracy(name, eps, transfer=True), abs=1e-6), key
    assert results[0]["val/transfer_eval/clean_acc"] == pytest.approx(report.clean_accuracy, abs=1e-6)
    assert not any(k.startswith("val/robust_acc") for k in results[0])


def test_transfer_from_the_model_itself_matches_white_box(tmp_path, data, trained):
    """FGSM gives the same numbers; white-box PGD (stopped at each point's first fooling iterate) is at
    least as strong as transfer PGD (every step)."""
    white_box = RobustnessEvaluation(attacks(), EPSILONS, num_samples=30, log_images=False)
    transfer = TransferEvaluation(
        copy.deepcopy(trained), attacks(), EPSILONS, num_samples=30, sanity_checks=True
    )
    trainer = make_trainer(tmp_path, callbacks=[white_box, transfer])
    results = trainer.validate(trained, datamodule=data, verbose=False)[0]
    for eps in EPSILONS:
        assert results[f"val/transfer_acc/fgsm/eps={eps:g}"] == results[f"val/robust_acc/fgsm/eps={eps:g}"]
        for name in ("pgd", "worst"):
            assert (
                results[f"val/transfer_acc/{name}/eps={eps:g}"]
                >= results[f"val/robust_acc/{name}/eps={eps:g}"]
            )
    assert results["val/transfer_eval/sanity_flags"] == 0
    assert results["val/robust_acc/pgd/eps=0.1"] < results["val/robust_eval/clean_acc"]


def test_a_missing_checkpoint_fails_at_construction_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere.ckpt"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.ckpt"):
        TransferEvaluation(str(missing), attacks(), EPSILONS)


def test_a_corrupt_checkpoint_gives_a_clear_error(tmp_path, data, trained):
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"not a checkpoint" * 8)
    callback = TransferEvaluation(str(corrupt), attacks(), EPSILONS)
    with pytest.raises(ValueError, match=r"corrupt\.ckpt.*not a loadable checkpoint"):
        make_trainer(tmp_path, callbacks=[callback]).validate(trained, datamodule=data, verbose=False)


def test_a_python_made_checkpoint_explains_the_missing_backbone(tmp_path):
    data = make_data()
    trainer = make_trainer(tmp_path, max_epochs=1, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(make_model(data), datamodule=data)
    trainer.save_checkpoint(tmp_path / "python.ckpt")
    with pytest.raises(ValueError, match=r"python\.ckpt.*load_defended_weights"):
        load_source(tmp_path / "python.ckpt")
