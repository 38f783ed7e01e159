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


def data_class(class_path: str) -> type:
    return getattr(lit_robust.data, class_path.rsplit(".", 1)[-1])


def synthetic_stand_in(data: dict[str, Any]) -> dict[str, Any]:
    """A tiny ``SyntheticImages`` config with the metadata of ``data``; wrappers keep their wrapping."""
    init_args = dict(data.get("init_args", {}))
    if "base" in init_args:  # a wrapping datamodule: swap its innermost base
        return {**data, "init_args": {**init_args, "base": synthetic_stand_in(init_args["base"])}}
    real = data_class(data["class_path"])(**init_args)
    return {
        "class_path": "SyntheticImages",
        "init_args": {
            "num_samples": 48,
            "num_classes": real.num_classes,
            "in_channels": real.in_channels,
            "input_size": real.input_size,
            "batch_size": 4,
            "val_size": 8,
        },
    }


def stand_in_sources(settings: dict[str, Any], data: dict[str, Any]) -> bool:
    """Replaces each callback's checkpoint ``source`` (made by another config) by an untrained MLP of the
    stand-in data's shape; whether there was one."""
    while "base" in data["init_args"]:
        data = data["init_args"]["base"]
    shape = {key: data["init_args"][key] for key in ("in_channels", "num_classes", "input_size")}
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
    data_config = tmp_path / "data.yaml"
    data = synthetic_stand_in(settings["data"])
    data_config.write_text(yaml.safe_dump(data))
    sourced = stand_in_sources(settings, data)
    if few_iterations(settings["trainer"].get("callbacks", [])) | sourced:
        config = tmp_path / config.name
        config.write_text(yaml.safe_dump(settings))
    cli = run_cli(
        [
            "fit",
            "--config",
            str(config),
            f"--data={data_config}",
            "--trainer.fast_dev_run=true",
            "--trainer.enable_progress_bar=false",
        ]
    )
    assert cli.trainer.state.finished
    assert "train/loss" in cli.trainer.callback_metrics


def test_every_config_is_covered():
    assert any(path.name == "quickstart.yaml" for path in CONFIGS)
