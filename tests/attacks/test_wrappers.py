"""EOT and BPDA, their composition, and a foreign (torchattacks) attack plugged in through an adapter."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
import torchattacks
from torch import Tensor, nn

from lit_robust.attacks import BIM, BPDA, EOT, FGSM, PGD, Attack, Expectation, ascent_loss, input_gradient

from .conftest import accuracy

AttackFn = Callable[[nn.Module, Tensor, Tensor], Tensor]


class GaussianNoise(nn.Module):
    """A randomised defense: the classifier sees ``x + N(0, sigma^2)``, a fresh draw on every call."""

    def __init__(self, model: nn.Module, sigma: float) -> None:
        super().__init__()
        self.model = model
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x + self.sigma * torch.randn_like(x))


def dither(x: Tensor) -> Tensor:
    """Random dithered quantisation to 5 grey levels: random, and without a useful gradient."""
    return torch.round(x * 4 + torch.rand_like(x) - 0.5).clamp(0, 4) / 4


class Preprocessed(nn.Module):
    """``model(dither(x))`` differentiated as written: the rounding's gradient is zero."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(dither(x))


def test_expectation_gradient_is_the_mean_of_per_draw_loss_gradients(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:32], data[1][:32]
    noisy = GaussianNoise(model, 0.3)
    torch.manual_seed(5)
    grad, loss, _ = input_gradient(Expectation(noisy, 4), x, ascent_loss("ce", y))
    torch.manual_seed(5)  # the same four draws, by hand
    draws = []
    for _ in range(4):
        x_leaf = x.clone().requires_grad_(True)
        draw_loss = F.cross_entropy(noisy(x_leaf), y, reduction="sum")
        draws.append((torch.autograd.grad(draw_loss, x_leaf)[0], draw_loss.detach()))
    torch.testing.assert_close(grad, torch.stack([g for g, _ in draws]).mean(0))
    torch.testing.assert_close(loss.sum(), torch.stack([v for _, v in draws]).mean())
    torch.manual_seed(5)  # the gradient of the loss at the mean logits is a different quantity
    x_leaf = x.clone().requires_grad_(True)
    mean_logits = torch.stack([noisy(x_leaf) for _ in range(4)]).mean(0)
    grad_of_mean = torch.autograd.grad(F.cross_entropy(mean_logits, y, reduction="sum"), x_leaf)[0]
    assert (grad - grad_of_mean).abs().max() > 1e-3 * grad.abs().max()


def test_expectation_reduces_gradient_variance(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:32], data[1][:32]
    noisy = GaussianNoise(model, 0.3)

    def spread(wrapped: Callable[[Tensor], Tensor]) -> Tensor:
        grads = torch.stack([input_gradient(wrapped, x, ascent_loss("ce", y))[0] for _ in range(20)])
        return grads.var(dim=0).mean()

    ratio = spread(Expectation(noisy, 16)) / spread(noisy)
    assert ratio < 0.25  # 1/16 in expectation


def test_expectation_of_a_deterministic_model_changes_nothing(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:32], data[1][:32]
    plain = input_gradient(model, x, ascent_loss("ce", y))
    grad, loss, shares = input_gradient(Expectation(model, 3), x, ascent_loss("ce", y))
    torch.testing.assert_close(grad, plain[0])
    torch.testing.assert_close(loss, plain[1])
    assert torch.equal(shares, F.one_hot(plain[2].argmax(dim=1), plain[2].shape[1]).to(shares.dtype))


def test_eot_judges_success_by_the_majority_vote_not_the_mean_logits() -> None:
    # Two of three draws predict class 0 narrowly, the third class 1 by a wide margin: the mean logits say
    # class 1 (the attack would count a point labelled 0 as fooled), the majority vote says class 0.
    draws = iter([torch.tensor([[1.0, 0.0, 0.0, 0.0]])] * 2 + [torch.tensor([[0.0, 9.0, 0.0, 0.0]])])

    def randomised(x: Tensor) -> Tensor:
        return next(draws) + 0 * x.sum()

    _, _, shares = input_gradient(Expectation(randomised, 3), torch.zeros(1, 2), lambda z: z[:, 1])
    assert shares.argmax(dim=1).item() == 0
    torch.testing.assert_close(shares, torch.tensor([[2 / 3, 1 / 3, 0.0, 0.0]]))


def expected_accuracy(model: nn.Module, x: Tensor, y: Tensor, draws: int = 50) -> float:
    """Accuracy of a randomised model averaged over draws (what the expected loss EOT ascends measures)."""
    torch.manual_seed(0)
    return sum(accuracy(model, x, y) for _ in range(draws)) / draws


@pytest.mark.parametrize("attack", [PGD(0.1, steps=20, seed=0), BIM(0.1, steps=20)])
def test_eot_is_stronger_than_one_draw_against_a_randomised_model(
    attack: Attack, model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    noisy = GaussianNoise(model, 0.4)
    torch.manual_seed(0)
    single = expected_accuracy(noisy, attack(noisy, x, y), y)
    torch.manual_seed(0)
    expected = expected_accuracy(noisy, EOT(attack, samples=10)(noisy, x, y), y)
    assert expected < single - 0.02


def test_bpda_forward_is_the_real_pipeline_and_backward_the_approximation(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:32], data[1][:32]
    quantised = BPDA(model, lambda v: torch.round(v * 4) / 4)
    torch.testing.assert_close(quantised(x), model(torch.round(x * 4) / 4))
    x_leaf = x.clone().requires_grad_(True)
    loss = F.cross_entropy(quantised(x_leaf), y)
    (grad,) = torch.autograd.grad(loss, x_leaf)
    q_leaf = (torch.round(x * 4) / 4).requires_grad_(True)  # identity approximation: gradient at the output
    torch.testing.assert_close(grad, torch.autograd.grad(F.cross_entropy(model(q_leaf), y), q_leaf)[0])
    doubled = BPDA(model, lambda v: torch.round(v * 4) / 4, approximation=lambda v: 2 * v - v.detach())
    (grad_doubled,) = torch.autograd.grad(F.cross_entropy(doubled(x_leaf), y), x_leaf)
    torch.testing.assert_close(grad_doubled, 2 * grad)


def test_bpda_and_eot_compose_against_a_random_non_differentiable_preprocessing(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    wrapped = BPDA(model, dither)
    assert expected_accuracy(wrapped, x, y) > 0.95
    torch.manual_seed(0)
    through_rounding = expected_accuracy(wrapped, BIM(0.1)(Preprocessed(model), x, y), y)  # zero gradient
    torch.manual_seed(0)
    bpda = expected_accuracy(wrapped, BIM(0.1)(wrapped, x, y), y)
    torch.manual_seed(0)
    bpda_eot = expected_accuracy(wrapped, EOT(BIM(0.1), samples=10)(wrapped, x, y), y)
    assert bpda_eot < bpda < through_rounding - 0.2


def from_torchattacks(attack_class: type, **kwargs: object) -> AttackFn:
    """A torchattacks attack as a lit_robust attack ``(model, x, y) -> x_adv`` (torchattacks binds the model
    at construction, lit_robust passes it at call time)."""
    return lambda model, x, y: attack_class(model, **kwargs)(x, y)


def worst_case_accuracy(attacks: list[AttackFn], model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Per-point worst case over attacks: what an evaluation that takes any attack callable computes."""
    robust = torch.ones_like(y, dtype=torch.bool)
    for attack in attacks:
        x_adv = attack(model, x, y)
        with torch.no_grad():
            robust &= model(x_adv).argmax(dim=1) == y
    return robust.float().mean().item()


def test_a_torchattacks_attack_plugs_in_through_a_two_line_adapter(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    foreign = from_torchattacks(torchattacks.FGSM, eps=0.1)
    torch.testing.assert_close(foreign(model, x, y), FGSM(0.1)(model, x, y), rtol=0, atol=1e-6)
    pgd = worst_case_accuracy([PGD(0.1, steps=10, seed=0)], model, x, y)
    both = worst_case_accuracy(
        [PGD(0.1, steps=10, seed=0), from_torchattacks(torchattacks.PGD, eps=0.1)], model, x, y
    )
    assert both <= pgd
