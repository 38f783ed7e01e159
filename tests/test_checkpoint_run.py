"""`lit-robust test --ckpt_path` of a checkpoint in a TensorBoard run logs into that run's ``test/``."""

from __future__ import annotations

from pathlib import Path

from jsonargparse import Namespace

from lit_robust.checkpoint_run import log_into_checkpoint_run
from lit_robust.cli import run_cli
from tests.test_warnings import tiny_quickstart_args


def trainer_config(save_dir: Path, version: object = None) -> Namespace:
    init_args = Namespace(save_dir=str(save_dir), name="quickstart", version=version, sub_dir=None)
    return Namespace(logger=Namespace(class_path="TensorBoardLogger", init_args=init_args))


def test_a_checkpoint_of_the_configured_logger_selects_its_run(tmp_path):
    config = trainer_config(tmp_path)
    checkpoint = tmp_path / "quickstart" / "version_3" / "checkpoints" / "last.ckpt"
    assert log_into_checkpoint_run(config, checkpoint, sub_dir="test")
    assert (config.logger.init_args.version, config.logger.init_args.sub_dir) == ("version_3", "test")


def test_anything_else_is_left_as_it_is(tmp_path):
    inside = tmp_path / "quickstart" / "version_3" / "checkpoints" / "last.ckpt"
    for config, path in (
        (trainer_config(tmp_path), None),
        (trainer_config(tmp_path, version=1), inside),  # a version given in the config wins
        (trainer_config(tmp_path / "other"), inside),  # another save_dir
        (trainer_config(tmp_path), tmp_path / "quickstart" / "version_3" / "last.ckpt"),
        (Namespace(logger=False), inside),
    ):
        before = str(config)
        assert not log_into_checkpoint_run(config, path, sub_dir="test")
        assert str(config) == before


def test_test_logs_into_the_run_of_the_tested_checkpoint(tmp_path):
    fit = run_cli(["fit", *tiny_quickstart_args(tmp_path), "--trainer.enable_progress_bar=false"])
    run_dir = Path(fit.trainer.logger.log_dir)
    tested = run_cli(
        [
            "test", *tiny_quickstart_args(tmp_path), "--trainer.enable_progress_bar=false",
            f"--ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}",
        ]
    )  # fmt: skip
    assert Path(tested.trainer.logger.log_dir) == run_dir / "test"
    assert (run_dir / "config.yaml").is_file() and (run_dir / "test" / "config.yaml").is_file()
    assert len(list((run_dir / "test").glob("events.out.tfevents.*"))) == 1
    assert [p.name for p in run_dir.parent.iterdir()] == [run_dir.name]  # no new version
