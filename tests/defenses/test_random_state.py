from __future__ import annotations

import torch
from torch import nn

from lit_robust.defenses.random_state import RandomState


def test_replayed_passes_draw_the_first_pass_dropout_mask_and_the_global_state_moves_on():
    dropout, x = nn.Dropout(0.5).train(), torch.ones(1000)
    randomness = RandomState(x.device)
    first = dropout(x)
    after_first = torch.get_rng_state()
    with randomness.replay():
        torch.testing.assert_close(dropout(x), first)
    with randomness.replay():
        torch.testing.assert_close(dropout(x), first)
    assert torch.equal(torch.get_rng_state(), after_first)
    assert not torch.equal(dropout(x), first)
