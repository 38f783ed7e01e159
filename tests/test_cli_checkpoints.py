"""A --ckpt_path that is not a checkpoint ends in the one-paragraph error of the other config mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lit_robust.cli import run_cli
from tests.test_preemption import long_fit_args


def write_truncated(path: Path) -> None:
    torch.save({"state_dict": {"w": torch.zeros(1000)}, "epoch": 0}, path)
    path.write_bytes(path.read_bytes()[:300])


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (write_truncated, "is not a readable checkpoint"),
        (lambda path: path.write_text("not a checkpoint"), "is not a readable checkpoint"),
        (lambda path: torch.save({"weights": torch.zeros(2)}, path), "is a torch file but not a Lightning"),
        (lambda path: torch.save({"state_dict": {}, "bad": Path(".")}, path), "safe loading refuses"),
    ],
)
@pytest.mark.parametrize("subcommand", ["fit", "test"])
def test_a_bad_checkpoint_file_gets_a_short_error(tmp_path, capsys, write, message, subcommand):
    path = tmp_path / "bad.ckpt"
    write(path)
    args = [subcommand, *long_fit_args(tmp_path)[1:], "--data.val_size=4", f"--ckpt_path={path}"]
    with pytest.raises(SystemExit) as stopped:
        run_cli(args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "lit-robust: error: ckpt_path" in err and message in " ".join(err.split())
    assert "Traceback" not in err
