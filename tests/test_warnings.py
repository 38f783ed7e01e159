"""A normal ``lit-robust fit`` and ``test`` emit no warning: none of ours, none of the deprecated APIs."""

from __future__ import annotations

import warnings

import pytest

from lit_robust.cli import run_cli
from lit_robust.upstream_warnings import LEAFSPEC_MESSAGE
from tests.test_cli import QUICKSTART


def tiny_quickstart_args(tmp_path) -> list[str]:
    """The quick-start config (its logger and callbacks) on tiny synthetic data."""
    return [
        "--config", QUICKSTART,
        "--data.source=SyntheticImages", "--data.source.num_samples=96", "--data.source.num_test_samples=32",
        "--data.source.num_classes=3", "--data.source.in_channels=1", "--data.source.input_size=28",
        "--data.batch_size=32", "--data.val_size=32",
        "--trainer.max_epochs=1", "--trainer.log_every_n_steps=1", "--trainer.enable_model_summary=false",
        f"--trainer.logger.init_args.save_dir={tmp_path / 'logs'}",
        f"--trainer.default_root_dir={tmp_path}",
    ]  # fmt: skip


def test_fit_then_test_of_the_quickstart_warns_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("JSONARGPARSE_DEPRECATION_WARNINGS", "all")  # else each shows once per process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cli = run_cli(["fit", *tiny_quickstart_args(tmp_path)])
        checkpoint = f"{cli.trainer.logger.log_dir}/checkpoints/last.ckpt"
        run_cli(["test", *tiny_quickstart_args(tmp_path), f"--ckpt_path={checkpoint}"])
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []


def test_the_leafspec_filter_is_limited_to_lightnings_module():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from lit_robust.upstream_warnings import ignore_lightning_leafspec_warning

        ignore_lightning_leafspec_warning()
        warnings.warn_explicit(
            "`isinstance(treespec, LeafSpec)` is deprecated", FutureWarning, "x.py", 1, module="my_module"
        )
        warnings.warn_explicit(
            "`isinstance(treespec, LeafSpec)` is deprecated",
            FutureWarning, "_pytree.py", 21, module="lightning.pytorch.utilities._pytree",
        )  # fmt: skip
    assert [str(w.message) for w in caught] == ["`isinstance(treespec, LeafSpec)` is deprecated"]
    assert caught[0].filename == "x.py"
    assert LEAFSPEC_MESSAGE.startswith("`isinstance")


@pytest.fixture(autouse=True)
def _restore_filters():
    with warnings.catch_warnings():
        yield


def test_run_cli_from_a_script_with_arguments_of_its_own_does_not_warn(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["my_script.py", "--batches", "3"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SystemExit):
            run_cli(["fit", "--config", QUICKSTART, "--print_config"])
    assert [str(w.message) for w in caught] == []
    assert "FashionMNIST" in capsys.readouterr().out
