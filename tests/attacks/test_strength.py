"""Relative strength of the bounded gradient attacks on the trained model, and their targeted modes."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import APGD, BIM, FGSM, ILL, LL, MIM, PGD, Attack, select_targets

from .conftest import NUM_CLASSES, accuracy


def hit_rate(model: nn.Module, x_adv: Tensor, target: Tensor) -> float:
    with torch.no_grad():
        return (model(x_adv).argmax(dim=1) == target).float().mean().item()


class Scaled(nn.Module):
    """Multiplies the logits by a constant: same predictions, saturated softmax."""

    def __init__(self, model: nn.Module, factor: float) -> None:
        super().__init__()
        self.model = model
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x) * self.factor


@pytest.mark.parametrize(
    "iterative",
    [BIM(0.1, steps=10), PGD(0.1, steps=10, seed=0), MIM(0.1, steps=10), APGD(0.1, steps=10, seed=0)],
)
def test_iterative_attacks_are_at_least_as_strong_as_fgsm(
    iterative: Attack, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    one_step = accuracy(model, FGSM(0.1)(model, x, y), y)
    assert one_step < 1.0
    assert accuracy(model, iterative(model, x, y), y) <= one_step


def test_apgd_is_at_least_as_strong_as_pgd_with_the_same_budget(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    seeds = range(3)  # averaged over random starts, which move single-seed results by a few points
    pgd = sum(accuracy(model, PGD(0.12, steps=10, seed=seed)(model, x, y), y) for seed in seeds) / 3
    apgd = sum(accuracy(model, APGD(0.12, steps=10, seed=seed)(model, x, y), y) for seed in seeds) / 3
    assert apgd <= pgd < 1.0


def test_apgd_dlr_is_invariant_to_logit_scale_where_cross_entropy_saturates(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    saturated = Scaled(model, 1000.0)
    dlr = accuracy(model, APGD(0.1, steps=10, loss="dlr", seed=0)(saturated, x, y), y)
    dlr_unscaled = accuracy(model, APGD(0.1, steps=10, loss="dlr", seed=0)(model, x, y), y)
    cross_entropy = accuracy(model, PGD(0.1, steps=10, seed=0)(saturated, x, y), y)
    assert dlr == dlr_unscaled < cross_entropy  # float32 softmax saturates: CE gradients vanish


def test_restarts_never_hurt_and_keep_the_fooled_points(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    single = PGD(0.1, steps=5, seed=3)(model, x, y)
    restarted = PGD(0.1, steps=5, restarts=4, seed=3)(model, x, y)
    with torch.no_grad():
        fooled_single = model(single).argmax(dim=1) != y
        fooled_restarted = model(restarted).argmax(dim=1) != y
    assert fooled_restarted[fooled_single].all()  # same generator: the first run is the single run
    assert fooled_restarted.sum() > fooled_single.sum()


def test_robust_accuracy_decreases_with_eps(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data
    accuracies = [accuracy(model, BIM(eps, steps=10)(model, x, y), y) for eps in (0.0, 0.05, 0.1, 0.15, 0.2)]
    assert accuracies[0] == accuracy(model, x, y)
    assert accuracies == sorted(accuracies, reverse=True) and accuracies[-1] < 0.1


@pytest.mark.parametrize(
    ("attack", "rule"),
    [
        (LL(0.2), "least_likely"),
        (ILL(0.2, steps=10), "least_likely"),
        (PGD(0.2, steps=20, targeted=True, target="random", seed=0), "random"),
        (MIM(0.2, steps=10, targeted=True, target="closest"), "closest"),
        (APGD(0.2, steps=20, loss="dlr", targeted=True, target="random", seed=0), "random"),
        (APGD(0.2, steps=20, loss="ce", targeted=True, target="least_likely", seed=0), "least_likely"),
    ],
)
def test_targeted_attacks_reach_the_target_more_often_than_chance(
    attack: Attack, rule: str, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    # the attacks draw their random targets from their seeded generator before anything else
    generator = torch.Generator().manual_seed(0) if rule == "random" else None
    target = select_targets(model, x, y, rule, generator)
    assert (target != y).all()
    rate = hit_rate(model, attack(model, x, y), target)
    assert rate > 0.7 and rate > hit_rate(model, FGSM(0.2)(model, x, y), target)


def test_given_target_rule_uses_the_labels_as_targets(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data
    target = (y + 1) % NUM_CLASSES
    x_adv = BIM(0.2, steps=10, targeted=True, target="given")(model, x, target)
    assert hit_rate(model, x_adv, target) > 0.5


def test_iterative_least_likely_reaches_the_least_likely_class_more_often_than_one_step(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    target = select_targets(model, x, y, "least_likely")
    assert hit_rate(model, ILL(0.2, steps=10)(model, x, y), target) > hit_rate(
        model, LL(0.2)(model, x, y), target
    )
