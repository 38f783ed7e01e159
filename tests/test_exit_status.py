"""Exit status of the installed ``lit-robust`` script and of ``python -m lit_robust``, as a shell sees it.

These run real subprocesses: the in-process tests of ``run_cli`` cannot see what the console script hands to
``sys.exit``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("lit-robust")
DEBUG = "LIT_ROBUST_DEBUG"
COMMANDS = {
    "console script": [str(SCRIPT)],
    "python -m": [sys.executable, "-m", "lit_robust"],
}


def tiny_fit_args(root: Path) -> list[str]:
    return [
        "--model=RobustClassifier",
        "--model.backbone=PRBasicCNN",
        "--data.source=SyntheticImages",
        "--data.source.num_samples=64",
        "--data.source.num_classes=3",
        "--data.source.in_channels=1",
        "--data.source.input_size=28",
        "--data.batch_size=32",
        "--trainer.accelerator=cpu",
        "--trainer.max_epochs=1",
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--trainer.callbacks=ModelCheckpoint",
        f"--trainer.callbacks.dirpath={root / 'checkpoints'}",
        "--trainer.callbacks.save_last=true",
        f"--trainer.default_root_dir={root}",
    ]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    environment.pop(DEBUG, None)
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=environment, timeout=240)


@pytest.fixture(scope="module", params=list(COMMANDS), ids=list(COMMANDS))
def command(request) -> list[str]:
    if request.param == "console script" and not SCRIPT.exists():
        pytest.fail(f"the console script is not installed next to {sys.executable}: pip install -e .")
    return COMMANDS[request.param]


def test_help_exits_zero(command, tmp_path):
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fit" in result.stdout


def test_fit_then_test_exit_zero_and_chain_in_a_shell(command, tmp_path):
    fit = run([*command, "fit", *tiny_fit_args(tmp_path)], tmp_path)
    assert fit.returncode == 0, fit.stderr
    assert "RobustCLI object" not in fit.stdout + fit.stderr
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert last.exists()
    test = run([*command, "test", *tiny_fit_args(tmp_path), f"--ckpt_path={last}"], tmp_path)
    assert test.returncode == 0, test.stderr
    shell = shutil.which("sh")
    if shell is None:
        pytest.skip("no POSIX shell")
    chained = " ".join(command) + " --help > /dev/null && echo chained"
    result = subprocess.run([shell, "-c", chained], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.stdout.strip() == "chained"


def test_a_bad_config_exits_non_zero_with_a_short_message(command, tmp_path):
    result = run([*command, "fit", *tiny_fit_args(tmp_path), "--data.batch_size=-4"], tmp_path)
    assert result.returncode != 0
    assert "batch_size" in result.stderr
    assert "Traceback" not in result.stderr
