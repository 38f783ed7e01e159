"""FAB and FAB-T: against torchattacks' FAB with AutoAttack's settings; the minimum-norm and bounded modes."""

from __future__ import annotations

import pytest
import torch
import torchattacks
from torch import Tensor, nn

from lit_robust.attacks import FAB, flat_norm
from lit_robust.evaluation import make_plan

from .conftest import accuracy


def minimal_norms(model: nn.Module, x: Tensor, x_adv: Tensor, y: Tensor, norm: str) -> Tensor:
    with torch.no_grad():
        fooled = model(x_adv).argmax(dim=1) != y
    return torch.where(fooled, flat_norm(x_adv - x, norm), torch.inf)


@pytest.mark.parametrize(
    ("norm", "eps", "targeted"),
    [
        ("Linf", 0.1, True),
        ("L2", 0.6, False),
        pytest.param("L2", 0.6, True, marks=pytest.mark.slow),
        pytest.param("Linf", 0.08, False, marks=pytest.mark.slow),
    ],
)
def test_robust_accuracy_within_a_point_of_torchattacks(
    norm: str, eps: float, targeted: bool, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    ours = FAB(eps, norm=norm, targeted=targeted)(model, x, y)
    theirs = torchattacks.FAB(
        model, norm=norm, eps=eps, steps=100, multi_targeted=targeted, n_classes=10, seed=0
    )(x, y)
    assert 0.05 < accuracy(model, theirs, y) < 0.95  # the comparison is not vacuous
    assert accuracy(model, ours, y) <= accuracy(model, theirs, y) + 0.01


@pytest.mark.parametrize("norm", ["Linf", "L2"])
def test_one_minimum_norm_run_gives_the_accuracy_at_every_radius(
    norm: str, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    attack = FAB(norm=norm, targeted=False, steps=50)
    assert attack.minimum_norm and attack.eps is None
    norms = minimal_norms(model, x, attack(model, x, y), y, norm)
    assert norms.isfinite().float().mean() > 0.9
    for eps in (0.05, 0.1) if norm == "Linf" else (0.5, 1.0):
        bounded = FAB(eps, norm=norm, targeted=False, steps=50)
        assert not bounded.minimum_norm
        grid_accuracy = (norms > eps).float().mean().item()
        assert abs(grid_accuracy - accuracy(model, bounded(model, x, y), y)) <= 0.02


def test_the_bounded_mode_returns_only_adversarial_examples_within_eps(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    x_adv = FAB(0.08, targeted=False, steps=30)(model, x, y)
    with torch.no_grad():
        fooled = model(x_adv).argmax(dim=1) != y
    assert fooled.any() and not fooled.all()
    assert torch.equal(x_adv[~fooled], x[~fooled])
    assert (flat_norm(x_adv - x, "Linf") <= 0.08 + 1e-6).all()


def test_early_stop_keeps_the_robust_accuracy(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:64], data[1][:64]
    full = FAB(0.1, steps=30, num_target_classes=3)(model, x, y)
    early = FAB(0.1, steps=30, num_target_classes=3, early_stop=True)(model, x, y)
    assert accuracy(model, early, y) == accuracy(model, full, y)


def test_restarts_never_increase_the_minimal_norm(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:32], data[1][:32]

    def run(restarts: int) -> Tensor:
        x_adv = FAB(norm="L2", targeted=False, steps=20, restarts=restarts)(model, x, y)
        return minimal_norms(model, x, x_adv, y, "L2")

    one, three = run(1), run(3)
    assert (three <= one + 1e-6).all() and (three < one - 1e-6).any()


def test_the_evaluation_plans_both_modes() -> None:
    plan = make_plan({"fab": FAB(), "fab_t": FAB(0.1)}, [0.05, 0.1])
    assert plan["fab"].kind == "minimum_norm"
    assert plan["fab_t"].kind == "bounded" and plan["fab_t"].at(0.05, early_stop=True).early_stop


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="norm"):
        FAB(norm="L1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha_max"):
        FAB(alpha_max=2.0)
    with pytest.raises(ValueError, match="num_target_classes"):
        FAB(num_target_classes=0)
