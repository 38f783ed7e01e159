from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from lit_robust.attacks import EOT, PGD
from lit_robust.defenses import VariablePerturbations
from lit_robust.models import MLP
from tests.synthetic import synthetic_data


def tiny_model(**kwargs) -> VariablePerturbations:
    backbone = MLP(in_channels=1, num_classes=3, input_size=8, hidden_sizes=[16])
    return VariablePerturbations(backbone, num_classes=3, **kwargs)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(6, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1, 2])


def test_training_noise_is_fresh_for_every_batch_and_forward_is_clean():
    model = tiny_model(eps=0.1)
    x, y = batch()
    first, second = model.training_loss(x, y), model.training_loss(x, y)
    assert first.logits.shape == (6, 3)
    assert not torch.equal(first.logits, second.logits)
    clean = model.backbone(model.normalize(x))
    assert not torch.allclose(first.logits, clean)
    assert torch.equal(model(x), model(x))  # phase "train": no noise at prediction time


def test_include_clean_trains_on_both_and_reports_clean_logits():
    model = tiny_model(eps=0.1, include_clean=True)
    x, y = batch()
    output = model.training_loss(x, y)
    clean = model.backbone(model.normalize(x))
    assert torch.allclose(output.logits, clean)
    assert output.loss > 0


def test_test_phase_trains_clean_and_predicts_noisy():
    model = tiny_model(eps=1.0, phase="test")
    x, y = batch()
    clean = model.backbone(model.normalize(x))
    output = model.training_loss(x, y)
    assert torch.allclose(output.logits, clean)
    assert torch.allclose(output.loss, F.cross_entropy(clean, y))
    assert not torch.equal(model(x), model(x))


def test_both_phases_add_noise_once_in_training():
    model = tiny_model(eps=1e-6, phase="both")
    x, y = batch()
    clean = model.backbone(model.normalize(x))
    assert torch.allclose(model.training_loss(x, y).logits, clean, atol=1e-4)
    assert not torch.equal(model(x), model(x))


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_perturbed_inputs_stay_in_the_unit_box(distribution):
    model = tiny_model(eps=1.0, distribution=distribution)
    noisy = model.perturb(torch.rand(100, 1, 8, 8))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert (noisy == 0).any() and (noisy == 1).any()  # eps=1 clips


def test_uniform_noise_is_bounded_by_eps():
    model = tiny_model(eps=0.05)
    x = torch.full((50, 1, 8, 8), 0.5)
    delta = model.perturb(x) - x
    assert delta.abs().max() <= 0.05 + 1e-6 and delta.abs().max() > 0.04


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"eps": 0.0}, "eps"), ({"distribution": "laplace"}, "distribution"), ({"phase": "never"}, "phase")],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny_model(**kwargs)


def test_eot_attack_runs_against_test_time_noise():
    model = tiny_model(eps=0.5, phase="both").eval()
    x, y = batch()
    attack = EOT(PGD(0.1, steps=3, step_size=0.05, seed=0), samples=4)
    x_adv = attack(model, x, y)
    assert x_adv.shape == x.shape and (x_adv - x).abs().max() <= 0.1 + 1e-6


def test_fits_and_saves_its_hyperparameters(tmp_path):
    data = synthetic_data(
        num_samples=64, num_classes=3, in_channels=1, input_size=8, batch_size=16, val_size=16
    )
    model = tiny_model(eps=0.2, include_clean=True)
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path
    )
    trainer.fit(model, datamodule=data)
    assert trainer.global_step == 3
    assert model.hparams.eps == 0.2 and model.hparams.include_clean and model.hparams.num_classes == 3
