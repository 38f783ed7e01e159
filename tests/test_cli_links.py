"""Any backbone through the CLI: the datamodule's shape reaches the arguments it has, and only those."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from lit_robust.cli import run_cli
from lit_robust.defenses import RobustClassifier

PGD_METRIC = "val/robust_acc/pgd/eps=0.05"


def backbone_args(
    tmp_path: Path, backbone: dict[str, Any], *extra: str, model: str = "RobustClassifier"
) -> list[str]:
    """``fit`` of ``backbone`` for two steps on tiny synthetic images, then one PGD evaluation."""
    evaluation = {
        "class_path": "RobustnessEvaluation",
        "init_args": {
            "attacks": {"pgd": {"class_path": "PGD", "init_args": {"eps": 0.05, "steps": 2}}},
            "epsilons": [0.05],
            "num_samples": 8,
            "batch_size": 8,
            "log_images": False,
            "log_figure": False,
        },
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": {"class_path": model, "init_args": {"backbone": backbone}},
                "trainer": {"callbacks": [evaluation]},
            }
        )
    )
    return [
        "fit",
        f"--config={config}",
        "--data.source=SyntheticImages",
        "--data.source.num_samples=32",
        "--data.source.num_classes=3",
        "--data.source.in_channels=3",
        "--data.source.input_size=16",
        "--data.batch_size=8",
        "--data.val_size=8",
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
        "--trainer.accelerator=cpu",
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={tmp_path}",
        *extra,
    ]


def fit(tmp_path: Path, backbone: dict[str, Any], *extra: str, **kwargs: Any):
    cli = run_cli(backbone_args(tmp_path, backbone, *extra, **kwargs))
    assert cli.trainer.state.finished
    assert cli.trainer.global_step == 2
    assert PGD_METRIC in cli.trainer.callback_metrics
    return cli


def test_a_torchvision_factory_gets_only_the_arguments_it_has_and_reloads(tmp_path):
    cli = fit(tmp_path, {"class_path": "torchvision.models.resnet18"})
    assert cli.model.backbone.fc.out_features == 3  # num_classes reached ResNet through resnet18's kwargs
    init_args = cli.model.hparams["backbone"]["init_args"]
    assert init_args["num_classes"] == 3
    assert "in_channels" not in init_args and "input_size" not in init_args
    (checkpoint,) = (tmp_path / "checkpoints").glob("*.ckpt")
    reloaded = RobustClassifier.load_from_checkpoint(checkpoint)
    torch.testing.assert_close(reloaded.backbone.fc.weight, cli.model.backbone.fc.weight)


def test_a_backbone_that_cannot_take_the_data_names_the_fix(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_cli(
            backbone_args(
                tmp_path, {"class_path": "torchvision.models.resnet18"}, "--data.source.in_channels=1"
            )
        )
    error = capsys.readouterr().err
    assert "3-channel images" in error
    assert "TorchvisionBackbone" in error
    assert "Traceback" not in error


def test_a_torchvision_resnet18_on_small_grey_images(tmp_path):
    cli = fit(
        tmp_path,
        {"class_path": "TorchvisionBackbone", "init_args": {"name": "resnet18"}},
        "--data.source.in_channels=1",
    )
    assert cli.model.backbone.model.conv1.in_channels == 1


@pytest.mark.parametrize("in_channels", [1, 3])
def test_a_small_timm_model(tmp_path, in_channels):
    pytest.importorskip("timm")
    cli = fit(
        tmp_path,
        {"class_path": "TimmBackbone", "init_args": {"name": "test_resnet"}},
        f"--data.source.in_channels={in_channels}",
    )
    assert cli.model(torch.rand(2, in_channels, 16, 16)).shape == (2, 3)


def test_a_timm_vit_gets_the_image_size_and_trains_in_bf16(tmp_path):
    pytest.importorskip("timm")
    cli = fit(
        tmp_path,
        {"class_path": "TimmBackbone", "init_args": {"name": "test_vit"}},
        "--trainer.precision=bf16-mixed",
    )
    assert cli.model.backbone.model.patch_embed.img_size == (16, 16)


def test_a_layer_sampling_ensemble_of_a_torchvision_model(tmp_path):
    cli = fit(
        tmp_path,
        {"class_path": "TorchvisionBackbone", "init_args": {"name": "resnet18"}},
        "--model.num_models=2",
        "--model.train_samples=2",
        "--model.test_samples=2",
        model="RandomLayerSampling",
    )
    assert cli.model.ensemble.num_units == 21  # per layer: 20 convolutions with their batch norms, and fc


def test_local_weights_load_and_a_mismatched_file_is_reported(tmp_path, capsys):
    first = fit(tmp_path / "a", {"class_path": "TorchvisionBackbone", "init_args": {"name": "resnet18"}})
    (checkpoint,) = (tmp_path / "a" / "checkpoints").glob("*.ckpt")
    backbone = {
        "class_path": "TorchvisionBackbone",
        "init_args": {"name": "resnet18", "checkpoint_path": str(checkpoint), "strict_weights": True},
    }
    second = run_cli(backbone_args(tmp_path / "b", backbone, "--trainer.limit_train_batches=0"))
    torch.testing.assert_close(second.model.backbone.state_dict(), first.model.backbone.state_dict())

    mismatched = {
        "class_path": "TorchvisionBackbone",
        "init_args": {"name": "resnet34", "checkpoint_path": str(checkpoint), "strict_weights": True},
    }
    with pytest.raises(SystemExit):
        run_cli(backbone_args(tmp_path / "c", mismatched))
    error = capsys.readouterr().err
    assert "does not match" in error and "missing from the file" in error


def test_a_timm_vit_in_layer_sampling_says_why_it_cannot(tmp_path, capsys):
    pytest.importorskip("timm")
    backbone = {"class_path": "TimmBackbone", "init_args": {"name": "test_vit"}}
    with pytest.raises(SystemExit):
        run_cli(backbone_args(tmp_path, backbone, model="RandomLayerSampling"))
    error = capsys.readouterr().err
    assert "model (VisionTransformer) owns parameters" in error
    assert "Traceback" not in error
