"""The ``lit-robust-experiments`` command: its console script, ``table`` and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from lit_robust.experiments.__main__ import main

ROOT = Path(__file__).parents[2]


def test_the_console_script_points_at_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["lit-robust-experiments"].partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is main


def test_table_of_a_spec_without_runs(workspace, capsys):
    main(["table", "specs/tiny.yaml", "--results-dir", "results"])
    out = capsys.readouterr().out
    assert "| wide | 0 | - | - | - | 12.5 | - |" in out and "(not run yet)" in out


def test_errors_exit_with_status_2(workspace, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "specs/tiny.yaml", "--rows", "nope", "--dry-run"])
    assert stop.value.code == 2
    assert "unknown rows or seeds ['nope']" in capsys.readouterr().err
