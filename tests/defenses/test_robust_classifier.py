from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lit_robust.data import ImageDataModule
from lit_robust.defenses import RobustClassifier, TrainingOutput
from lit_robust.models import PRBasicCNN
from tests.synthetic import synthetic_data


def tiny_data(**kwargs) -> ImageDataModule:
    options = dict(num_samples=256, num_classes=4, in_channels=1, input_size=28, batch_size=32, seed=0)
    return synthetic_data(**(options | kwargs))


def tiny_model(**kwargs) -> RobustClassifier:
    return RobustClassifier(PRBasicCNN(in_channels=1, num_classes=4, input_size=28), num_classes=4, **kwargs)


def fit(model: L.LightningModule, data: L.LightningDataModule, tmp_path, epochs: int = 3) -> L.Trainer:
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        default_root_dir=tmp_path,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=data)
    return trainer


def test_standard_training_learns_synthetic_data(tmp_path):
    data = tiny_data()
    model = tiny_model()
    trainer = fit(model, data, tmp_path)
    # four classes: chance is 0.25
    assert trainer.callback_metrics["val/acc"] > 0.9
    assert trainer.callback_metrics["train/loss"] < 1.0


def test_forward_normalises_before_the_backbone():
    backbone = nn.Flatten()
    model = RobustClassifier(backbone, num_classes=2, mean=[0.5], std=[0.25])
    x = torch.rand(3, 1, 2, 2)
    torch.testing.assert_close(model(x), ((x - 0.5) / 0.25).flatten(1))


def test_training_loss_hook_is_what_training_minimises(tmp_path):
    class DoubledLoss(RobustClassifier):
        def training_loss(self, x, y):
            logits = self(x)
            self.seen_loss = 2 * F.cross_entropy(logits, y)
            return TrainingOutput(self.seen_loss, logits)

    model = DoubledLoss(PRBasicCNN(in_channels=1, num_classes=4, input_size=28), num_classes=4)
    trainer = fit(model, tiny_data(num_samples=64), tmp_path, epochs=1)
    torch.testing.assert_close(trainer.callback_metrics["train/loss"], model.seen_loss.detach())


def test_predict_step_returns_probabilities():
    model = tiny_model().eval()
    probabilities = model.predict_step((torch.rand(5, 1, 28, 28), torch.zeros(5, dtype=torch.long)), 0)
    assert probabilities.shape == (5, 4)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(5))


def test_checkpoint_of_a_python_built_module_reloads_with_its_backbone(tmp_path):
    model = tiny_model(label_smoothing=0.1)
    trainer = fit(model, tiny_data(num_samples=64), tmp_path, epochs=1)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    assert "backbone" not in torch.load(path, weights_only=True)["hyper_parameters"]
    restored = RobustClassifier.load_from_checkpoint(
        path, backbone=PRBasicCNN(in_channels=1, num_classes=4, input_size=28), weights_only=True
    )
    assert restored.hparams.label_smoothing == 0.1
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(restored.eval()(x), model.eval()(x))


def test_lr_scheduler_is_wired_and_stepped(tmp_path):
    model = tiny_model(
        optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
        lr_scheduler=lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5),
    )
    trainer = fit(model, tiny_data(num_samples=64), tmp_path, epochs=2)
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.025)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"num_classes": 1}, "num_classes"), ({"label_smoothing": 1.5}, "label_smoothing")],
)
def test_impossible_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RobustClassifier(nn.Flatten(), **kwargs)


def test_the_defended_model_holds_the_parts_and_checkpoints_of_the_old_layout_still_load():
    model = tiny_model(mean=[0.5], std=[0.25])
    assert model.backbone is model.model.backbone and model.normalize is model.model.normalize
    assert model.defended_model is model.model
    assert {key.split(".")[0] for key in model.state_dict()} >= {"model"}
    old_layout = {key.removeprefix("model."): value for key, value in model.state_dict().items()}
    assert "normalize.mean" in old_layout and any(k.startswith("backbone.") for k in old_layout)
    restored = tiny_model()
    restored.load_state_dict(old_layout)
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(restored.eval()(x), model.eval()(x))
