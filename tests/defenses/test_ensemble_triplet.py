from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lit_robust.attacks import FGSM
from lit_robust.defenses import (
    AdversarialTraining,
    EnsembleTripletAdversarialTraining,
    TripletAdversarialTraining,
)
from lit_robust.models import MLP

pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log")


def refuse(model, x, y):
    raise AssertionError("the attack must not run when the batch brings x_adv")


def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 4, 4, generator=generator)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    return x, y, (x + 0.1 * torch.randn(x.shape, generator=generator)).clamp(0, 1)


def test_given_examples_get_the_at2l_loss_without_crafting():
    x, y, x_adv = batch()
    torch.manual_seed(0)
    ensemble = EnsembleTripletAdversarialTraining(MLP(1, 3, 4, [16]), lambda1=0.6, lambda2=2.0, num_classes=3)
    torch.manual_seed(0)
    at2l = TripletAdversarialTraining(MLP(1, 3, 4, [16]), refuse, lambda1=0.6, lambda2=2.0, num_classes=3)
    torch.manual_seed(1)
    expected = at2l.training_loss(x, y, x_adv).loss
    torch.manual_seed(1)
    torch.testing.assert_close(ensemble.training_loss(x, y, x_adv).loss, expected)
    plain = AdversarialTraining(MLP(1, 3, 4, [16]), FGSM(0.1), adv_weight=0.6, num_classes=3)
    plain.load_state_dict(at2l.state_dict())
    assert plain.training_loss(x, y, x_adv).loss < expected  # same Eq. 1 part, minus the triplet term


def test_clean_batches_are_standard_training():
    x, y, _ = batch()
    ensemble = EnsembleTripletAdversarialTraining(MLP(1, 3, 4, [16]), num_classes=3)
    torch.testing.assert_close(ensemble.training_loss(x, y).loss, F.cross_entropy(ensemble(x), y))


def test_the_batch_tensors_after_x_and_y_reach_the_training_loss():
    x, y, x_adv = batch()
    at2l = TripletAdversarialTraining(MLP(1, 3, 4, [16]), refuse, num_classes=3)
    loss = at2l.training_step((x, y, x_adv), 0)
    assert loss.requires_grad


def test_without_a_datamodule_the_ensemble_defense_refuses_to_craft():
    x, y, _ = batch()
    ensemble = EnsembleTripletAdversarialTraining(MLP(1, 3, 4, [16]), num_classes=3)
    with pytest.raises(RuntimeError, match="EnsembleAdversarialExamples"):
        ensemble.adversarial_examples(x, y)
