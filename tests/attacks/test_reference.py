"""Correctness against torchattacks (a dev dependency) on the trained model and the same data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchattacks
from torch import Tensor, nn

from lit_robust.attacks import APGD, BIM, FGSM, MIM, PGD, Attack, CarliniWagnerL2, DeepFool

from .conftest import accuracy
from .test_strength import Scaled


class PositiveLogits(nn.Module):
    """Adds 100 to every logit: the softmax is unchanged, but torchattacks.CW's margin, which reads
    ``max(one_hot * z)`` and ``max((1 - one_hot) * z)``, is only the true margin when all logits are positive.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x) + 100.0


def median_l2_of_successes(model: nn.Module, x: Tensor, x_adv: Tensor, y: Tensor) -> tuple[float, float]:
    """(success rate, median L2 perturbation of the successful points)."""
    with torch.no_grad():
        fooled = model(x_adv).argmax(dim=1) != y
    norms = (x_adv - x)[fooled].flatten(1).norm(dim=1)
    return fooled.float().mean().item(), norms.median().item()


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.2])
def test_fgsm_equals_torchattacks(eps: float, model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data  # batch 256: their mean-reduced loss scales the gradient by a power of two, signs unchanged
    ours = FGSM(eps)(model, x, y)
    theirs = torchattacks.FGSM(model, eps=eps)(x, y)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)
    assert (ours != x).any()


@pytest.mark.parametrize(("eps", "step_size"), [(0.1, 0.01), (0.12, 0.03)])
def test_pgd_without_random_start_matches_torchattacks(
    eps: float, step_size: float, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    ours = PGD(eps, steps=20, step_size=step_size, random_start=False)(model, x, y)
    theirs = torchattacks.PGD(model, eps=eps, alpha=step_size, steps=20, random_start=False)(x, y)
    assert accuracy(model, ours, y) < 0.9  # the comparison is not vacuous
    assert abs(accuracy(model, ours, y) - accuracy(model, theirs, y)) <= 0.01


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (BIM(0.1, steps=10, step_size=0.01), lambda m: torchattacks.BIM(m, eps=0.1, alpha=0.01, steps=10)),
        (MIM(0.1, steps=10, step_size=0.01), lambda m: torchattacks.MIFGSM(m, eps=0.1, alpha=0.01, steps=10)),
    ],
)
def test_bim_and_mim_equal_torchattacks(
    ours: Attack,
    theirs: Callable[[nn.Module], torchattacks.Attack],
    model: nn.Module,
    data: tuple[Tensor, Tensor],
) -> None:
    # MIFGSM normalises the gradient by its mean absolute value, ours by its L1 norm: the same direction
    x, y = data
    x_adv = ours(model, x, y)
    torch.testing.assert_close(x_adv, theirs(model)(x, y), rtol=0, atol=1e-6)
    assert accuracy(model, x_adv, y) < 0.9


@pytest.mark.parametrize(("eps", "step_size"), [(0.5, 0.1), (1.0, 0.2)])
def test_l2_pgd_without_random_start_equals_torchattacks(
    eps: float, step_size: float, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    # torchattacks.PGDL2 divides the gradient of the batch-mean loss by (its norm + 1e-10), which shortens
    # the steps of points whose per-sample gradient norm is below ~1e-10 * batch size; the trained model is
    # confident enough for that, so the logits are tempered to keep every gradient well above it.
    net = Scaled(model, 0.25)
    x, y = data
    ours = PGD(eps, steps=10, step_size=step_size, norm="L2", random_start=False)(net, x, y)
    theirs = torchattacks.PGDL2(net, eps=eps, alpha=step_size, steps=10, random_start=False)(x, y)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("norm", "eps", "loss"), [("Linf", 0.12, "ce"), ("Linf", 0.12, "dlr"), ("L2", 1.0, "ce")]
)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("steps", [10, 50, 100])
def test_apgd_matches_torchattacks(
    norm: str, eps: float, loss: str, seed: int, steps: int, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    # Both draw the random start from the same stream for the same seed (ours from a seeded generator,
    # theirs from the seeded global RNG); the Linf start differs only by their rescaling to max |t| = 1.
    x, y = data
    ours = APGD(eps, norm=norm, steps=steps, loss=loss, seed=seed)(model, x, y)
    theirs = torchattacks.APGD(model, norm=norm, eps=eps, steps=steps, loss=loss, seed=seed)(x, y)
    assert abs(accuracy(model, ours, y) - accuracy(model, theirs, y)) <= 0.01


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_carlini_wagner_median_l2_matches_torchattacks(
    c: float, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    # torchattacks.CW has no binary search: it is one round at a fixed c, which is ours with
    # binary_search_steps=1 (same tanh space, Adam, lr and steps; both abort early, ours by the paper's
    # 0.9999 rule, theirs on any increase). Its atanh of pixels at exactly 0 or 1 is infinite, which freezes
    # them, so the images are kept strictly inside the box, and its margin needs positive logits.
    net = PositiveLogits(model)
    x, y = data[0].clamp(0.01, 0.99), data[1]
    ours = CarliniWagnerL2(c=c, binary_search_steps=1, steps=100, lr=0.01)(net, x, y)
    theirs = torchattacks.CW(net, c=c, steps=100, lr=0.01)(x, y)
    ours_rate, ours_l2 = median_l2_of_successes(net, x, ours, y)
    theirs_rate, theirs_l2 = median_l2_of_successes(net, x, theirs, y)
    assert ours_rate > 0.3
    assert abs(ours_rate - theirs_rate) <= 0.01
    assert abs(ours_l2 - theirs_l2) <= 0.1 * theirs_l2


def test_deepfool_median_l2_matches_torchattacks(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    # torchattacks.DeepFool applies the overshoot to each step, as ours does (without the box both equal the
    # paper's overshoot of the total perturbation); it loops over samples and classes, so a small batch.
    x, y = data[0][:64], data[1][:64]
    ours = DeepFool(steps=50, overshoot=0.02)(model, x, y)
    theirs = torchattacks.DeepFool(model, steps=50, overshoot=0.02)(x, y)
    ours_rate, ours_l2 = median_l2_of_successes(model, x, ours, y)
    theirs_rate, theirs_l2 = median_l2_of_successes(model, x, theirs, y)
    assert ours_rate >= theirs_rate >= 0.95
    assert abs(ours_l2 - theirs_l2) <= 0.1 * theirs_l2
