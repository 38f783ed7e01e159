"""A tiny lit-robust config (synthetic data, an MLP, two training batches) and a spec over it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TINY_CONFIG = {
    "seed_everything": 0,
    "trainer": {
        "accelerator": "cpu", "max_epochs": 1, "limit_train_batches": 2, "enable_model_summary": False,
        "callbacks": [{"class_path": "ModelCheckpoint", "init_args": {"save_last": True}}],
    },
    "model": {
        "class_path": "RobustClassifier",
        "init_args": {
            "backbone": {"class_path": "lit_robust.models.MLP", "init_args": {"hidden_sizes": [16]}}
        },
    },
    "data": {
        "source": {
            "class_path": "SyntheticImages",
            "init_args": {"num_samples": 64, "num_test_samples": 24, "num_classes": 3, "in_channels": 1,
                          "input_size": 8},
        },
        "batch_size": 16,
        "val_size": 16,
    },
}  # fmt: skip

FGSM_OVERLAY = [
    {
        "class_path": "RobustnessEvaluation",
        "init_args": {
            "attacks": {"fgsm": {"class_path": "FGSM", "init_args": {"eps": 0.1}}},
            "num_samples": 20, "log_images": False, "log_figure": False,
        },
    }
]  # fmt: skip


def tiny_spec(**changes: object) -> dict:
    """Two rows (hidden width 16 and 8) x two seeds, FGSM on 20 test points."""
    spec = {
        "title": "Tiny table",
        "paper": "none (a test)",
        "columns": [
            {"name": "clean", "metric": "test/acc"},
            {"name": "FGSM", "metric": "test/robust_acc/fgsm/eps=0.1"},
            {"name": "val acc", "metric": "val/acc", "scale": 1, "digits": 3},
        ],
        "rows": [
            {"name": "wide", "config": "tiny.yaml", "paper": {"FGSM": 12.5}},
            {"name": "narrow", "config": "tiny.yaml",
             "overrides": {"model.init_args.backbone.init_args.hidden_sizes": [8]}},
        ],
        "evaluation": FGSM_OVERLAY,
        "scales": {"cpu": {"seeds": [0, 1]}, "paper": {"seeds": [0], "overrides": {"trainer.max_epochs": 2}}},
    }  # fmt: skip
    return {**spec, **changes}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding tiny.yaml and specs/tiny.yaml, made the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY_CONFIG))
    write_spec(tmp_path, tiny_spec())
    return tmp_path


def write_spec(root: Path, spec: dict, name: str = "tiny") -> Path:
    path = root / "specs" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
