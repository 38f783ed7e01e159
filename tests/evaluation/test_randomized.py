"""Randomised defenses: majority-vote judging, how a model is declared randomised, the spread over repeats."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import FGSM
from lit_robust.evaluation import evaluate_repeatedly, evaluate_robustness


class Flaky(nn.Module):
    """The wrapped model, except that the first 2 of every 5 calls answer the next class (a wrong one)."""

    randomized = True

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.calls = 0

    def forward(self, x: Tensor) -> Tensor:
        logits = self.model(x)
        self.calls += 1
        return logits.roll(1, dims=1) if (self.calls - 1) % 5 < 2 else logits


class Noisy(nn.Module):
    """The wrapped model on Gaussian-noised inputs: a fresh draw from the global generator per call."""

    def __init__(self, model: nn.Module, sigma: float) -> None:
        super().__init__()
        self.model, self.sigma = model, sigma

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x + self.sigma * torch.randn_like(x))


def test_a_point_counts_as_correct_only_by_the_majority_of_draws(blobs_model, blobs):
    x, y = blobs
    clean = (blobs_model(x).argmax(dim=1) == y).double().mean().item()
    voted = evaluate_robustness(Flaky(blobs_model), x, y, {}, batch_size=1000)  # 3 of 5 draws right
    assert voted.clean_accuracy == pytest.approx(clean)
    assert voted.passes()[0] == 5 * len(y)
    single = evaluate_robustness(Flaky(blobs_model), x, y, {}, batch_size=1000, randomized=False)
    assert single.clean_accuracy < 0.05  # the first draw is the wrong one
    two = evaluate_robustness(Flaky(blobs_model), x, y, {}, batch_size=1000, draws=2)
    assert two.clean_accuracy < 0.3  # a 1-1 tie goes to the lowest class


def test_attacks_on_a_randomised_model_keep_their_steps_and_are_judged_by_vote(blobs_model, blobs):
    x, y = blobs
    report = evaluate_robustness(Noisy(blobs_model, 0.05), x, y, {"fgsm": FGSM(0.1)}, [0.1], randomized=True)
    clean = int(report.white_box.clean.sum())
    assert report.passes("fgsm") == (clean + 5 * clean, clean)  # one gradient, a 5-draw vote
    assert report.accuracy("fgsm", 0.1) < report.clean_accuracy
    with pytest.raises(ValueError, match="draws"):
        evaluate_robustness(blobs_model, x, y, {}, randomized=True, draws=0)


def test_repeated_evaluations_give_the_spread_of_every_number(blobs_model, blobs):
    x, y = (t[:100] for t in blobs)
    model = Noisy(blobs_model, 0.3)

    def evaluate(seed: int):
        return evaluate_robustness(
            model, x, y, {"fgsm": FGSM(0.1)}, [0.1], seed=seed, randomized=True, draws=3
        )

    spread = evaluate_repeatedly(evaluate, repeats=3)
    again = evaluate_repeatedly(evaluate, repeats=3)
    accuracies = [r.accuracy("fgsm", 0.1) for r in spread.reports]
    assert len(set(accuracies)) > 1 and [r.accuracy("fgsm", 0.1) for r in again.reports] == accuracies
    column = next(c for c in spread.mean if c.name == "robust_acc/fgsm/eps=0.1")
    assert spread.mean[column] == pytest.approx(sum(accuracies) / 3)
    assert spread.std[column] == pytest.approx(torch.tensor(accuracies).std().item())
    assert "robust_acc/fgsm/eps=0.1: " in str(spread) and "+-" in str(spread)
    with pytest.raises(ValueError, match="repeats"):
        evaluate_repeatedly(evaluate, repeats=0)
