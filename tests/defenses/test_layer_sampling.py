"""RandomLayerSampling: the group loss (Eq. 7), the N-sample prediction, attack targets and a short fit."""

from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from lit_robust.attacks import EOT, PGD
from lit_robust.defenses import RandomLayerSampling
from lit_robust.models import MLP, LayerSampledEnsemble, ResNet18
from tests.synthetic import synthetic_data

CLASSES = 4


def make_model(**kwargs: object) -> RandomLayerSampling:
    backbone = MLP(in_channels=1, num_classes=CLASSES, input_size=8, hidden_sizes=[16, 16])
    return RandomLayerSampling(backbone, num_classes=CLASSES, mean=[0.5], std=[0.25], **kwargs)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(6, 1, 8, 8), torch.randint(0, CLASSES, (6,))


def test_backbone_becomes_a_layer_sampled_ensemble():
    model = make_model(num_models=3)
    assert isinstance(model.ensemble, LayerSampledEnsemble)
    assert model.ensemble.num_models == 3 and model.ensemble.num_units == 3
    assert make_model(granularity="stage").ensemble.units == [["1"], ["4"], ["7"]]


def test_a_training_step_of_a_residual_backbone_trains_the_sampled_layers_of_each_sub_model():
    backbone = ResNet18(in_channels=1, num_classes=CLASSES, input_size=8)
    model = RandomLayerSampling(backbone, num_classes=CLASSES, mean=[0.5], std=[0.25], train_samples=3)
    ensemble = model.ensemble.train()
    x, y = torch.rand(4, 1, 8, 8), torch.randint(0, CLASSES, (4,))
    torch.manual_seed(5)
    model.training_loss(x, y).loss.backward()
    torch.manual_seed(5)
    paths = torch.stack([ensemble.sample_paths(1)[0] for _ in range(3)])  # the same 3 draws
    assert ensemble.num_units == 21
    for unit, names in enumerate(ensemble.units):
        for m, sub_model in enumerate(ensemble.models):
            grads = [p.grad for name in names for p in sub_model.get_submodule(name).parameters()]
            assert all((g is not None) == bool((paths[:, unit] == m).any()) for g in grads)


def test_mse_loss_of_the_mean_prediction_and_the_eq7_decomposition():
    model = make_model(train_samples=3)
    x, y = batch()
    torch.manual_seed(1)
    output = model.training_loss(x, y)
    torch.manual_seed(1)
    members = model.sample_probabilities(x, 3)
    mean = members.mean(dim=0)
    target = F.one_hot(y, CLASSES).float()
    torch.testing.assert_close(output.loss, (mean - target).square().sum(-1).mean())
    torch.testing.assert_close(output.logits, mean.log())
    member_mse = (members - target).square().sum(-1).mean()
    diversity = (members - mean).square().sum(-1).mean()
    torch.testing.assert_close(output.loss, member_mse - diversity)  # Eq. 7
    assert diversity > 0  # the three sampled models differ


def test_cross_entropy_option_is_the_cross_entropy_of_the_mean():
    model = make_model(loss="cross_entropy", label_smoothing=0.1)
    x, y = batch()
    torch.manual_seed(2)
    output = model.training_loss(x, y)
    torch.manual_seed(2)
    log_mean = model.sample_probabilities(x, 3).mean(0).log()
    torch.testing.assert_close(output.loss, F.cross_entropy(log_mean, y, label_smoothing=0.1))


def test_forward_is_the_log_mean_softmax_of_n_sampled_models():
    model = make_model(test_samples=5).eval()
    x, _ = batch()
    torch.manual_seed(3)
    logits = model(x)
    torch.manual_seed(3)
    expected = model.sample_probabilities(x, 5).mean(0).log()
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(logits.exp().sum(-1), torch.ones(6))


def test_sampled_model_fixes_one_path_on_raw_pixels():
    model = make_model().eval()
    x, _ = batch()
    path = torch.tensor([1, 0, 1])
    target = model.sampled_model(path)
    torch.testing.assert_close(target(x), model.ensemble(model.normalize(x), path))
    torch.testing.assert_close(target(x), target(x))


def test_eot_attack_on_the_prediction_stays_in_the_threat_model_and_lowers_accuracy():
    # the prediction samples layers at random: 10 epochs make its clean accuracy (about 0.95) pass on any draw
    torch.manual_seed(0)
    data = synthetic_data(num_samples=256, num_classes=CLASSES, in_channels=1, input_size=8, batch_size=32)
    model = make_model(test_samples=4, loss="cross_entropy")
    trainer = L.Trainer(
        max_epochs=10, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
    )  # fmt: skip
    trainer.fit(model, data)
    assert "train/diversity" in trainer.callback_metrics
    model.eval()
    data.setup("test")
    x, y = next(iter(data.test_dataloader()))
    x = x.float() / 255 if x.dtype == torch.uint8 else x
    clean = (model(x).argmax(-1) == y).float().mean()
    x_adv = EOT(PGD(0.3, steps=10), samples=2)(model, x, y, generator=torch.Generator().manual_seed(0))
    assert (x_adv - x).abs().max() <= 0.3 + 1e-6
    robust = (model(x_adv).argmax(-1) == y).float().mean()
    assert clean > 0.5 and robust < clean


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"train_samples": 0}, "train_samples"), ({"loss": "hinge"}, "loss"), ({"num_models": 0}, "num_models")],
)
def test_invalid_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_model(**kwargs)
