"""APGD-T: against torchattacks' APGDT with AutoAttack's settings, its targets and its success rule."""

from __future__ import annotations

import copy

import pytest
import torch
import torchattacks
from torch import Tensor, nn

from lit_robust.attacks import APGD, APGDT
from lit_robust.attacks.linear import nearest_classes

from .conftest import accuracy


@pytest.mark.parametrize(("norm", "eps"), [("Linf", 0.08), ("Linf", 0.12), ("L2", 0.8)])
def test_robust_accuracy_within_a_point_of_torchattacks(
    norm: str, eps: float, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    ours = APGDT(eps, norm=norm, steps=100, early_stop=True)(model, x, y)
    theirs = torchattacks.APGDT(model, norm=norm, eps=eps, steps=100, n_classes=10, seed=0)(x, y)
    assert 0.05 < accuracy(model, theirs, y) < 0.95  # the comparison is not vacuous
    assert accuracy(model, ours, y) <= accuracy(model, theirs, y) + 0.01


def test_it_is_at_least_as_strong_as_untargeted_apgd(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data
    targeted = accuracy(model, APGDT(0.12, steps=50)(model, x, y), y)
    untargeted = accuracy(model, APGD(0.12, steps=50, seed=0)(model, x, y), y)
    assert targeted <= untargeted


def test_early_stop_gives_the_full_runs_result(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:64].double(), data[1][:64]
    net = copy.deepcopy(model).double()  # the fixture is shared: convert a copy
    full = APGDT(0.1, steps=20, num_target_classes=3)(net, x, y)
    early = APGDT(0.1, steps=20, num_target_classes=3, early_stop=True)(net, x, y)
    torch.testing.assert_close(early, full, rtol=0, atol=1e-12)


def test_any_misclassification_counts_and_targets_follow_the_clean_ranking() -> None:
    # A linear model on 2 pixels whose classes are ranked 0 > 1 > 2 > 3 > 4 at x: the first target is 1.
    seen: list[Tensor] = []

    class Recorder(APGDT):
        def run_once(self, model, x, source, y, loss_target, success_target, generator):  # type: ignore[override]
            seen.append(loss_target.clone())
            assert success_target is None  # success is any misclassification, not reaching the target
            return super().run_once(model, x, source, y, loss_target, success_target, generator)

    net = nn.Linear(2, 5)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(torch.tensor([4.0, 3.0, 2.0, 1.0, 0.0]))
    x, y = torch.full((1, 2), 0.5), torch.zeros(1, dtype=torch.long)
    Recorder(0.1, steps=3, num_target_classes=9)(net, x, y)
    assert [t.item() for t in seen] == [1, 2, 3, 4]  # capped at the 4 other classes


def _distance_ordered_linear_model() -> nn.Linear:
    """5 classes on 2 pixels, class 0 predicted at (0.5, 0.5) with logits 4, 3, 2, 1, 0, whose linearised
    boundaries lie at L-inf distances 10, 0.2, 1.5, 2 and L2 distances 10, 0.28, 2.12, 2 (classes 1-4)."""
    net = nn.Linear(2, 5)
    weight = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [1.0, 1.0], [2.0, 0.0]])
    logits = torch.tensor([4.0, 3.0, 2.0, 1.0, 0.0])
    with torch.no_grad():
        net.weight.copy_(weight)
        net.bias.copy_(logits - weight @ torch.full((2,), 0.5))
    return net


@pytest.mark.parametrize(("norm", "order"), [("Linf", [2, 3, 4, 1]), ("L2", [2, 4, 3, 1])])
def test_linear_ranking_orders_targets_by_distance_in_the_threat_models_norm(
    norm: str, order: list[int]
) -> None:
    net, x = _distance_ordered_linear_model(), torch.full((1, 2), 0.5)
    torch.testing.assert_close(nearest_classes(net, x, net(x), norm), torch.tensor([order]))  # type: ignore[arg-type]
    seen: list[int] = []

    class Recorder(APGDT):
        def run_once(self, model, x, source, y, loss_target, success_target, generator):  # type: ignore[override]
            seen.append(loss_target.item())
            return super().run_once(model, x, source, y, loss_target, success_target, generator)

    y = torch.zeros(1, dtype=torch.long)
    Recorder(0.1, norm, steps=3, num_target_classes=2, ranking="linear", skip_targets=1)(net, x, y)  # type: ignore[arg-type]
    assert seen == order[1:3]  # the nearest is skipped, the next two are attacked, nearest first


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="num_target_classes"):
        APGDT(0.1, num_target_classes=0)
    with pytest.raises(ValueError, match="norm"):
        APGDT(0.1, norm="L1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ranking"):
        APGDT(0.1, ranking="confidence")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="skip_targets"):
        APGDT(0.1, skip_targets=-1)
    net, x = _distance_ordered_linear_model(), torch.full((1, 2), 0.5)
    with pytest.raises(ValueError, match="leaves none of 4 classes"):
        APGDT(0.1, skip_targets=4)(net, x, torch.zeros(1, dtype=torch.long))
