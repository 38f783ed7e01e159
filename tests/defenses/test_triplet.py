from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import FGSM
from lit_robust.defenses import AdversarialTraining, TripletAdversarialTraining
from lit_robust.losses import TripletRegularizer
from lit_robust.models import MLP

pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log")


def test_at2l_is_adversarial_training_plus_the_weighted_triplet_term():
    x = torch.rand(8, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    torch.manual_seed(0)
    at2l = TripletAdversarialTraining(MLP(1, 3, 4, [16]), FGSM(0.1), lambda1=0.6, lambda2=2.0, num_classes=3)
    torch.manual_seed(0)
    plain = AdversarialTraining(MLP(1, 3, 4, [16]), FGSM(0.1), adv_weight=0.6, num_classes=3)
    x_adv = FGSM(0.1)(plain, x, y)
    torch.manual_seed(3)
    expected_triplet = TripletRegularizer(weight=2.0)(plain(x_adv), plain(x), y)
    torch.manual_seed(3)
    loss = at2l.training_loss(x, y).loss
    torch.testing.assert_close(loss, plain.training_loss(x, y).loss + expected_triplet)


def test_at2l_keeps_the_paper_names_and_defaults_in_its_hyperparameters():
    at2l = TripletAdversarialTraining(MLP(1, 3, 4, [16]), FGSM(0.3), num_classes=3)
    assert (at2l.hparams.lambda1, at2l.hparams.lambda2, at2l.hparams.alpha) == (0.3, 1.0, 1.0)
    assert at2l.hparams.distance == "Linf"
    assert at2l.adv_weight == 0.3 and at2l.triplet.weight == 1.0


def test_at2l_rejects_bad_triplet_settings():
    with pytest.raises(ValueError, match="weight and alpha"):
        TripletAdversarialTraining(MLP(1, 3, 4, [16]), FGSM(0.3), alpha=-1.0, num_classes=3)
