"""``lit-robust test --ckpt_path X``: X's model is the default, and the command line overrides it.

Lightning alone parses a checkpoint's hyper-parameters over the command line, so the experiment runner's
test-time overrides (``model.init_args.test_samples`` of a layer-sampling row) were silently dropped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lit_robust.cli import run_cli
from tests.test_exit_status import SCRIPT, run, tiny_fit_args


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    """The last checkpoint of a tiny fit with ``label_smoothing 0.2``."""
    root = tmp_path_factory.mktemp("fit")
    fit = run([str(SCRIPT), "fit", *tiny_fit_args(root), "--model.label_smoothing=0.2"], root)
    assert fit.returncode == 0, fit.stderr
    return root / "checkpoints" / "last.ckpt"


def test_a_model_argument_beside_a_checkpoint_is_the_model_tested(fitted, tmp_path):
    last = fitted
    test_args = [*tiny_fit_args(tmp_path), "--model.label_smoothing=0.5", f"--ckpt_path={last}"]
    result = run([str(SCRIPT), "test", *test_args], tmp_path)
    assert result.returncode == 0, result.stderr
    tested = yaml.safe_load((tmp_path / "config.yaml").read_text())["model"]
    assert tested["init_args"]["label_smoothing"] == 0.5


def test_what_the_command_line_leaves_unsaid_comes_from_the_checkpoint(fitted, tmp_path):
    last = fitted
    cli = run_cli(["test", *tiny_fit_args(tmp_path), f"--ckpt_path={last}"])
    assert type(cli.model).__name__ == "RobustClassifier"
    assert cli.model.hparams.label_smoothing == 0.2
