"""`majority_vote`: the plurality of fresh forward passes, ties to the lowest class index."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import majority_vote


class Scripted(nn.Module):
    """Returns the given logits in turn, one batch per call, like a randomised defense's draws."""

    def __init__(self, draws: list[list[list[float]]]) -> None:
        super().__init__()
        self.draws = [torch.tensor(d) for d in draws]
        self.calls = 0

    def forward(self, x: Tensor) -> Tensor:
        logits = self.draws[self.calls % len(self.draws)]
        self.calls += 1
        return logits


def test_the_plurality_of_the_draws_wins_over_the_mean_logits() -> None:
    # point 0: votes 0, 0, 2 (mean logits favour 2); point 1: votes 1, 2, 3 (a three-way tie: lowest, 1)
    model = Scripted(
        [
            [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]],
            [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
            [[0.0, 0.0, 9.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
        ]
    )
    assert majority_vote(model, torch.zeros(2, 1), draws=3).tolist() == [0, 1]
    assert model.calls == 3


def test_one_draw_of_a_deterministic_model_is_its_prediction(model, data) -> None:
    x = data[0][:64]
    with torch.no_grad():
        expected = model(x).argmax(dim=1)
    assert torch.equal(majority_vote(model, x, draws=1), expected)
    assert torch.equal(majority_vote(model, x, draws=4), expected)


def test_it_needs_at_least_one_draw(model, data) -> None:
    with pytest.raises(ValueError, match="draws must be > 0"):
        majority_vote(model, data[0][:2], draws=0)


def test_empty_batch() -> None:
    assert majority_vote(nn.Linear(3, 4), torch.zeros(0, 3), draws=2).shape == (0,)
