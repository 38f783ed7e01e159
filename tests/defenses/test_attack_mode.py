from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.defenses.attack_mode import module_mode


def network() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.Flatten())


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_block_runs_in_the_mode_and_every_submodule_gets_its_own_mode_back(mode):
    model = network().train()
    model[2].eval()  # a submodule in its own mode
    with module_mode(model, mode):
        assert all(m.training == (mode == "train") for m in model.modules())
    assert [m.training for m in model.modules()] == [True, True, True, False, True]


def test_training_mode_crafting_uses_batch_statistics_and_leaves_the_running_ones_untouched():
    model = network().eval()
    batch_norm = model[1]
    before = {k: v.clone() for k, v in batch_norm.state_dict().items()}
    x = 3.0 + torch.rand(8, 1, 6, 6)
    with module_mode(model, "train"):
        out = nn.Sequential(*model[:2])(x)
    torch.testing.assert_close(out.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)
    for name, value in batch_norm.state_dict().items():
        torch.testing.assert_close(value, before[name], msg=name)
    assert not model.training
