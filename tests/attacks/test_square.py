"""Square: against torchattacks' Square with AutoAttack's 5,000 queries, no backward, its query budget."""

from __future__ import annotations

import pytest
import torch
import torchattacks
from torch import Tensor, nn

from lit_robust.attacks import Square
from lit_robust.attacks.square_windows import l2_pattern, square_fraction

from .conftest import accuracy


class NoBackward(torch.autograd.Function):
    """The identity, whose backward raises."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        return x.clone()

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        raise AssertionError("Square called backward")


class Counting(nn.Module):
    """Counts the images forwarded; its output cannot be back-propagated; optional logit noise."""

    def __init__(self, model: nn.Module, noise: float = 0.0) -> None:
        super().__init__()
        self.model, self.noise, self.images = model, noise, 0

    def forward(self, x: Tensor) -> Tensor:
        self.images += x.shape[0]
        logits = NoBackward.apply(self.model(x))
        return logits + self.noise * torch.randn_like(logits)


@pytest.mark.parametrize(
    ("norm", "eps", "count"), [("Linf", 0.12, 128), pytest.param("L2", 1.2, 64, marks=pytest.mark.slow)]
)
def test_robust_accuracy_within_a_point_of_torchattacks(
    norm: str, eps: float, count: int, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:count], data[1][:count]  # their L2 version spends its 5,000 queries slowly
    ours = Square(eps, norm=norm, queries=5000)(model, x, y)
    theirs = torchattacks.Square(model, norm=norm, eps=eps, n_queries=5000, seed=0)(x, y)
    assert 0.05 < accuracy(model, theirs, y) < 0.95  # the comparison is not vacuous
    assert accuracy(model, ours, y) <= accuracy(model, theirs, y) + 0.01


@pytest.mark.parametrize("norm", ["Linf", "L2"])
def test_it_never_calls_backward_and_keeps_to_its_query_budget(
    norm: str, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:32], data[1][:32]
    counting = Counting(model)
    with torch.enable_grad():
        x_adv = Square(0.1 if norm == "Linf" else 1.0, norm=norm, queries=50, restarts=2)(counting, x, y)
    assert 0 < counting.images <= 2 * 50 * len(x)
    assert accuracy(model, x_adv, y) < accuracy(model, x, y)


def test_eot_runs_every_query_on_that_many_draws(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:16], data[1][:16]
    noisy = Counting(model, noise=0.5)
    Square(0.05, queries=20, eot_samples=3)(noisy, x, y)
    plain = Counting(model, noise=0.5)
    Square(0.05, queries=20)(plain, x, y)
    assert noisy.images % 3 == 0 and noisy.images > plain.images


def test_the_square_size_follows_the_papers_schedule() -> None:
    assert square_fraction(0, 10000, 0.8) == 0.8
    assert square_fraction(11, 10000, 0.8) == 0.4
    assert square_fraction(8001, 10000, 0.8) == 0.8 / 512
    assert square_fraction(500, 5000, 0.8) == 0.8 / 16  # 500 of 5,000 is iteration 1,000 of 10,000
    assert square_fraction(501, 5000, 0.8) == 0.8 / 32


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_the_l2_pattern_has_unit_norm_and_opposite_halves(size: int) -> None:
    pattern = l2_pattern(size, "cpu", torch.float64)
    torch.testing.assert_close(pattern.norm(), torch.tensor(1.0, dtype=torch.float64))
    assert (pattern[size // 2 :] < 0).all() and (pattern[: size // 2] > 0).all()


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="images"):
        Square(0.1)(nn.Linear(4, 3), torch.rand(2, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="p_init"):
        Square(0.1, p_init=0.0)
    with pytest.raises(ValueError, match="eot_samples"):
        Square(0.1, eot_samples=0)
