"""`AdversarialDefense`: the attack mode in one place, for every defense that crafts against itself."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.defenses import (
    TRADES,
    AdversarialDefense,
    AdversarialTraining,
    AdversaryCritic,
    VirtualAdversarialTraining,
)
from lit_robust.losses import TripletRegularizer


def defense(mode: str = "eval") -> AdversarialDefense:
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    return AdversarialDefense(backbone, attack_mode=mode, num_classes=3).train()


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_craft_calls_the_attack_on_the_module_in_the_attack_mode_and_restores_the_modes(mode):
    model = defense(mode)
    seen = []

    def attack(m, x, y, extra):
        seen.append((m is model, [s.training for s in m.modules()], extra))
        return x

    x = torch.rand(2, 1, 4, 4)
    assert model.craft(attack, x, torch.tensor([0, 1]), "extra") is x
    assert seen == [(True, [mode == "train"] * len(list(model.modules())), "extra")]
    assert all(m.training for m in model.modules())


def test_add_triplet_adds_the_term_or_nothing():
    model = defense()
    loss, adv, clean, y = torch.tensor(1.0), torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    assert model.add_triplet(loss, None, adv, clean, y) is loss
    triplet = TripletRegularizer(0.5)
    torch.manual_seed(0)  # the negatives are drawn from the global RNG
    expected = loss + triplet(adv, clean, y)
    torch.manual_seed(0)
    torch.testing.assert_close(model.add_triplet(loss, triplet, adv, clean, y), expected)


def test_a_bad_mode_is_refused_and_every_crafting_defense_shares_the_base():
    with pytest.raises(ValueError, match="attack_mode"):
        defense("test")
    for cls in (AdversarialTraining, TRADES, VirtualAdversarialTraining, AdversaryCritic):
        assert issubclass(cls, AdversarialDefense)
