from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from lit_robust.attacks import flat_norm
from lit_robust.defenses import VirtualAdversarialTraining
from lit_robust.defenses.trades import kl_to
from lit_robust.models import MLP

pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log")


def model(**kwargs) -> VirtualAdversarialTraining:
    torch.manual_seed(0)
    backbone = MLP(1, 3, 4, [16], dropout=0.5)
    return VirtualAdversarialTraining(backbone, **(dict(num_classes=3, eps=1.0, xi=1e-3) | kwargs))


class NoPerturbation(VirtualAdversarialTraining):
    """VAT whose virtual adversarial perturbation is zero: its penalty is the KL at ``r = 0``."""

    def virtual_adversarial_perturbation(self, model, x, target_logits):
        return torch.zeros_like(x)


def test_perturbation_has_norm_eps_and_finds_a_more_sensitive_direction_than_random():
    defense = model(power_iterations=2).eval()
    x = torch.rand(64, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        clean = defense(x)
    r_vadv = defense.virtual_adversarial_perturbation(defense, x, clean)
    torch.testing.assert_close(flat_norm(r_vadv, "L2"), torch.ones(64))
    random = torch.randn_like(x)
    random = random / flat_norm(random, "L2").view(-1, 1, 1, 1)
    with torch.no_grad():
        kl_vadv, kl_random = kl_to(clean)(defense(x + r_vadv)), kl_to(clean)(defense(x + random))
    assert (kl_vadv > kl_random).float().mean() > 0.9


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_kl_at_zero_perturbation_is_zero_with_dropout_in_training(mode):
    torch.manual_seed(0)
    defense = NoPerturbation(MLP(1, 3, 4, [64, 64], dropout=0.5), num_classes=3, attack_mode=mode).train()
    x, y = torch.rand(32, 1, 4, 4), torch.arange(32) % 3
    out = defense.training_loss(x, y)
    torch.testing.assert_close(out.loss, F.cross_entropy(out.logits, y), rtol=0, atol=1e-6)


def test_the_float32_direction_is_the_float64_direction_of_the_papers_tiny_xi():
    torch.manual_seed(0)
    defense = VirtualAdversarialTraining(MLP(1, 10, 28, [256]), num_classes=10).eval()
    with torch.no_grad():
        for p in defense.parameters():
            p.mul_(4.0)  # confident predictions, as of a trained model
    exact = copy.deepcopy(defense).double()
    exact.xi = 1e-6
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(1)) ** 0.25  # many pixels near 1

    def direction(defense, x):
        with torch.no_grad():
            target = defense(x)
        torch.manual_seed(2)  # the same random start
        r = defense.virtual_adversarial_perturbation(defense, x, target)
        return (r / flat_norm(r, "L2").view(-1, 1, 1, 1)).flatten(1).double()

    reference = direction(exact, x.double())
    cosine = (direction(defense, x) * reference).sum(dim=1).abs()
    assert cosine.mean() > 0.99
    defense.xi = 1e-6  # the paper's value is below float32 resolution
    assert (direction(defense, x) * reference).sum(dim=1).abs().mean() < 0.95


def test_alpha_zero_is_standard_training_and_alpha_adds_the_kl():
    x, y = torch.rand(6, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    defense = model(alpha=0.0).eval()  # eval: dropout off, so the clean logits are reproducible
    torch.testing.assert_close(defense.training_loss(x, y).loss, F.cross_entropy(defense(x), y))
    assert model(alpha=1.0).eval().training_loss(x, y).loss > F.cross_entropy(defense(x), y)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_penalty_runs_in_the_chosen_mode_and_the_mode_is_restored(mode):
    defense = model(attack_mode=mode).train()
    seen = []
    defense.backbone.register_forward_hook(lambda module, args, out: seen.append(module.training))
    defense.training_loss(torch.rand(4, 1, 4, 4), torch.tensor([0, 1, 2, 0]))
    # clean pass (train); in eval mode the penalty's target; power iteration and perturbed pass (mode)
    assert seen == [True] + [mode == "train"] * (2 if mode == "train" else 3)
    assert all(m.training for m in defense.modules())


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="eps > 0"):
        model(eps=0.0)
    with pytest.raises(ValueError, match="attack_mode"):
        model(attack_mode="test")
