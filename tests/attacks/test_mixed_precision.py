"""Attacks under mixed precision: the model may run in bf16, the threat model stays exact in float32."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import input_gradient, model_logits, project
from tests.attacks.test_contract import BOUNDED, MINIMUM_NORM, small_model


class DtypeSpy(nn.Module):
    """Records the dtype of the wrapped model's logits (bf16 when autocast is really on)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.dtypes: set[torch.dtype] = set()

    def forward(self, x: Tensor) -> Tensor:
        logits = self.model(x)
        self.dtypes.add(logits.dtype)
        return logits


def batch() -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 5, 5, generator=generator)
    x = torch.where(torch.rand(x.shape, generator=generator) < 0.2, x.round(), x)  # pixels on the box edges
    return x, torch.randint(4, (6,), generator=generator)


@pytest.mark.parametrize("norm", ["Linf", "L2"])
@pytest.mark.parametrize("name", sorted(BOUNDED))
def test_bounded_attacks_under_bf16_autocast_return_float32_inside_the_threat_model(name: str, norm: str):
    torch.manual_seed(0)
    model = DtypeSpy(small_model(3, 4).eval())
    x, y = batch()
    eps = 0.1 if norm == "Linf" else 0.5
    attack = BOUNDED[name](eps, norm)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x_adv = attack(model, x, y)
    assert model.dtypes == {torch.bfloat16}  # the model did run in bf16
    assert x_adv.dtype == torch.float32
    # a fixed point of the float32 projection: inside the ball and the box exactly, no bf16 rounding left
    assert torch.equal(project(x_adv, x, eps, attack.norm), x_adv)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    if not name.startswith("FAB"):  # bounded FAB returns x unless it fools the model within eps
        assert not torch.equal(x_adv, x)


@pytest.mark.parametrize("name", sorted(MINIMUM_NORM))
def test_minimum_norm_attacks_under_bf16_autocast_return_float32_in_the_box(name: str):
    torch.manual_seed(0)
    model = small_model(3, 4).eval()
    x, y = batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x_adv = MINIMUM_NORM[name]()(model, x, y)
    assert x_adv.dtype == torch.float32 and x_adv.min() >= 0 and x_adv.max() <= 1


def test_logits_and_input_gradient_are_float32_under_autocast():
    torch.manual_seed(0)
    model = small_model(3, 4).eval()
    x, y = batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model(x).dtype == torch.bfloat16
        assert model_logits(model, x).dtype == torch.float32
        grad, loss, logits = input_gradient(
            model, x, lambda z: nn.functional.cross_entropy(z, y, reduction="none")
        )
    assert grad.dtype == loss.dtype == logits.dtype == torch.float32
    assert grad.abs().sum() > 0


def test_model_logits_never_lowers_precision():
    model = small_model(3, 4).double().eval()
    x, _ = batch()
    assert model_logits(model, x.double()).dtype == torch.float64
