from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lit_robust.cli import run_cli
from lit_robust.defenses import RobustClassifier

QUICKSTART = str(Path(__file__).parents[1] / "configs" / "quickstart.yaml")


def synthetic_args(tmp_path: Path, *extra: str) -> list[str]:
    """Arguments for a tiny, fast run on synthetic data with the quick-start model."""
    return [
        "--model=RobustClassifier",
        "--model.backbone=PRBasicCNN",
        "--data.source=SyntheticImages",
        "--data.source.num_samples=96",
        "--data.source.num_classes=3",
        "--data.source.in_channels=1",
        "--data.source.input_size=28",
        "--data.batch_size=32",
        "--trainer.accelerator=cpu",
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={tmp_path}",
        *extra,
    ]


def run_failing(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(args)
    assert exit_info.value.code != 0
    error = capsys.readouterr().err
    assert "Traceback" not in error
    return error


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("fit", "validate", "test", "predict"):
        assert command in out
    assert "lit-robust: train and evaluate adversarially robust image classifiers" in " ".join(out.split())
    assert "Lightning Trainer command line tool" not in out


def test_print_config_of_the_quickstart(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(["fit", "--config", QUICKSTART, "--print_config"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "class_path: lit_robust.models" in out
    assert "FashionMNIST" in out


def test_datamodule_metadata_is_linked_into_model_and_backbone(tmp_path):
    cli = run_cli(["fit", *synthetic_args(tmp_path, "--trainer.fast_dev_run=true")])
    assert cli.model.num_classes == 3
    assert cli.model(torch.rand(2, 1, 28, 28)).shape == (2, 3)
    torch.testing.assert_close(cli.model.normalize.mean.flatten(), torch.tensor(cli.datamodule.mean))


def test_python_module_entry_point(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "lit_robust", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "fit" in result.stdout


def test_resuming_from_a_checkpoint_continues_training(tmp_path):
    checkpoint = [
        "--trainer.callbacks=ModelCheckpoint",
        f"--trainer.callbacks.dirpath={tmp_path / 'ckpt'}",
        "--trainer.callbacks.save_last=true",
    ]
    first = run_cli(["fit", *synthetic_args(tmp_path, "--trainer.max_epochs=1", *checkpoint)])
    last = tmp_path / "ckpt" / "last.ckpt"
    steps_after_one_epoch = first.trainer.global_step
    saved = torch.load(last, weights_only=True)
    assert saved["epoch"] == 0

    resumed = run_cli(
        ["fit", *synthetic_args(tmp_path, "--trainer.max_epochs=2", *checkpoint), f"--ckpt_path={last}"]
    )
    assert resumed.trainer.current_epoch == 2
    assert resumed.trainer.global_step == 2 * steps_after_one_epoch
    changed = [
        not torch.equal(value, resumed.model.state_dict()[name])
        for name, value in saved["state_dict"].items()
        if value.is_floating_point()
    ]
    assert any(changed)


def test_cli_checkpoint_reloads_without_passing_the_backbone(tmp_path):
    cli = run_cli(
        ["fit", *synthetic_args(tmp_path, "--trainer.max_epochs=1", "--trainer.limit_train_batches=1")]
    )
    path = tmp_path / "cli.ckpt"
    cli.trainer.save_checkpoint(path)
    restored = RobustClassifier.load_from_checkpoint(path, weights_only=True)
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(restored.eval()(x), cli.model.eval()(x))


# --- configuration errors end with a short message naming the key, not a traceback ------------------------
def test_wrong_type_names_the_key(tmp_path, capsys):
    error = run_failing(["fit", *synthetic_args(tmp_path, "--data.batch_size=lots")], capsys)
    assert "batch_size" in error


def test_unknown_key_names_the_key(tmp_path, capsys):
    error = run_failing(["fit", *synthetic_args(tmp_path, "--model.learning_rte=0.1")], capsys)
    assert "learning_rte" in error


def test_negative_batch_size_is_rejected(tmp_path, capsys):
    error = run_failing(["fit", *synthetic_args(tmp_path, "--data.batch_size=-4")], capsys)
    assert "batch_size" in error


def test_validation_split_larger_than_the_dataset(tmp_path, capsys):
    error = run_failing(["fit", *synthetic_args(tmp_path, "--data.val_size=500")], capsys)
    assert "val_size" in error


def test_missing_dataset_with_download_off_says_how_to_get_it(tmp_path, capsys):
    args = [
        *synthetic_args(tmp_path),
        "--data.source=MNIST",
        f"--data.source.data_dir={tmp_path / 'nowhere'}",
        "--data.source.download=false",
        "--trainer.fast_dev_run=true",
    ]
    error = run_failing(["fit", *args], capsys)
    assert "download" in error


def test_impossible_model_value_is_rejected(tmp_path, capsys):
    error = run_failing(["fit", *synthetic_args(tmp_path, "--model.label_smoothing=2.0")], capsys)
    assert "label_smoothing" in error
