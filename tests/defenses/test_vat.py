from __future__ import annotations

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


def test_perturbation_has_norm_eps_and_finds_a_more_sensitive_direction_than_random():
    defense = model(power_iterations=2)
    x = torch.rand(64, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        clean = defense.eval()(x)
    r_vadv = defense.virtual_adversarial_perturbation(x, clean)
    torch.testing.assert_close(flat_norm(r_vadv, "L2"), torch.ones(64))
    random = torch.randn_like(x)
    random = random / flat_norm(random, "L2").view(-1, 1, 1, 1)
    with torch.no_grad():
        kl_vadv, kl_random = kl_to(clean)(defense(x + r_vadv)), kl_to(clean)(defense(x + random))
    assert (kl_vadv > kl_random).float().mean() > 0.9


def test_alpha_zero_is_standard_training_and_alpha_adds_the_kl():
    x, y = torch.rand(6, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    defense = model(alpha=0.0).eval()  # eval: dropout off, so the clean logits are reproducible
    torch.testing.assert_close(defense.training_loss(x, y).loss, F.cross_entropy(defense(x), y))
    assert model(alpha=1.0).eval().training_loss(x, y).loss > F.cross_entropy(defense(x), y)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_power_iteration_mode_is_restored(mode):
    defense = model(attack_mode=mode).train()
    seen = []
    defense.backbone.register_forward_hook(lambda module, args, out: seen.append(module.training))
    defense.training_loss(torch.rand(4, 1, 4, 4), torch.tensor([0, 1, 2, 0]))
    # clean pass (train), power iteration (mode), adversarial pass (train)
    assert seen == [True, mode == "train", True]
    assert all(m.training for m in defense.modules())


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="eps > 0"):
        model(eps=0.0)
    with pytest.raises(ValueError, match="attack_mode"):
        model(attack_mode="test")
