"""Every YAML under configs/ runs through the CLI (fast_dev_run) on synthetic data of the same shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import lit_robust.data
from lit_robust.cli import run_cli

ROOT = Path(__file__).parents[1] / "configs"
CONFIGS = sorted(p for p in ROOT.rglob("*.yaml") if "experiments" not in p.relative_to(ROOT).parts)
"""Every lit-robust config; the experiment specs (configs/experiments/) are tested in tests/experiments/."""


def source_class(class_path: str) -> type:
    return getattr(lit_robust.data, class_path.rsplit(".", 1)[-1])


def synthetic_stand_in(data: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` config with a tiny ``SyntheticImages`` source of its source's shape (its steps and
    other settings kept), in batches of 4 with 8 validation images."""
    source = data["source"]
    real = source_class(source["class_path"])(**source.get("init_args", {}))
    shape = {"num_classes": real.num_classes, "in_channels": real.in_channels, "input_size": real.input_size}
    synthetic = {"class_path": "SyntheticImages", "init_args": {"num_samples": 48, **shape}}
    return {**data, "source": synthetic, "batch_size": 4, "val_size": 8}


def stand_in_sources(settings: dict[str, Any], data: dict[str, Any]) -> bool:
    """Replaces each callback's checkpoint ``source`` (made by another config) by an untrained MLP of the
    stand-in data's shape; whether there was one."""
    init_args = data["source"]["init_args"]
    shape = {key: init_args[key] for key in ("in_channels", "num_classes", "input_size")}
    mlp = {"class_path": "lit_robust.models.MLP", "init_args": {**shape, "hidden_sizes": [8]}}
    callbacks = [c for c in settings["trainer"].get("callbacks", []) if isinstance(c.get("init_args"), dict)]
    sourced = [c for c in callbacks if isinstance(c["init_args"].get("source"), str)]
    for callback in sourced:
        callback["init_args"]["source"] = mlp
    return bool(sourced)


ITERATION_KEYS = ("steps", "samples", "queries", "binary_search_steps", "restarts", "test_samples")
"""Iteration counts of the evaluation callbacks' attacks that the config test cuts to :data:`FEW`."""
FEW = 2


def few_iterations(settings: Any) -> bool:
    """Cuts every iteration count (:data:`ITERATION_KEYS`) nested in ``settings`` to at most :data:`FEW`, so
    that a paper-scale evaluation (EOT over 10 draws of a ResNet-50 ensemble) runs every code path in
    seconds; whether anything changed."""
    changed = False
    if isinstance(settings, dict):
        for key, value in settings.items():
            if key in ITERATION_KEYS and isinstance(value, int) and value > FEW:
                settings[key] = FEW
                changed = True
            else:
                changed |= few_iterations(value)
    elif isinstance(settings, list):
        for value in settings:
            changed |= few_iterations(value)
    return changed


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_config_runs_one_batch_on_synthetic_data(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = yaml.safe_load(config.read_text())
    settings["data"] = synthetic_stand_in(settings["data"])
    stand_in_sources(settings, settings["data"])
    few_iterations(settings["trainer"].get("callbacks", []))
    config = tmp_path / config.name
    config.write_text(yaml.safe_dump(settings))
    cli = run_cli(
        [
            "fit",
            "--config",
            str(config),
            "--trainer.fast_dev_run=true",
            "--trainer.enable_progress_bar=false",
        ]
    )
    assert cli.trainer.state.finished
    assert "train/loss" in cli.trainer.callback_metrics


def test_every_config_is_covered():
    assert any(path.name == "quickstart.yaml" for path in CONFIGS)
