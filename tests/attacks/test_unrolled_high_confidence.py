from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lit_robust.attacks import UnrolledHighConfidence, straight_through_round


def linear_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 4))


def points(count: int = 32) -> torch.Tensor:
    return torch.rand(count, 1, 4, 4, generator=torch.Generator().manual_seed(1))


def weight_grads(model: nn.Module, loss: torch.Tensor) -> torch.Tensor:
    grads = torch.autograd.grad(loss, list(model.parameters()))
    return torch.cat([g.flatten() for g in grads])


def test_straight_through_round_rounds_forward_and_is_the_identity_backward():
    v = torch.tensor([0.2, 0.7, 0.5001], requires_grad=True)
    out = straight_through_round(v)
    torch.testing.assert_close(out, torch.tensor([0.0, 1.0, 1.0]))
    (grad,) = torch.autograd.grad(out.sum(), v)
    torch.testing.assert_close(grad, torch.ones(3))


def test_attack_reaches_the_target_with_the_requested_confidence():
    model, x = linear_model(), points()
    with torch.no_grad():
        target = (model(x).argmax(dim=1) + 1) % 4
    x_adv = UnrolledHighConfidence(steps=5)(model, x, target, torch.full((32,), 0.9))
    with torch.no_grad():
        p = F.softmax(model(x_adv), dim=1)
    assert (p.argmax(dim=1) == target).float().mean() > 0.9
    assert (p.gather(1, target.unsqueeze(1)).squeeze(1) >= 0.85).float().mean() > 0.9


def test_second_order_gradients_reach_the_weights():
    model, x = linear_model(), points()
    with torch.no_grad():
        target = (model(x).argmax(dim=1) + 1) % 4
    confidence = torch.full((32,), 0.9)
    code = UnrolledHighConfidence(steps=3, detach_iterates=True)(model, x, target, confidence)
    paper = UnrolledHighConfidence(steps=3, detach_iterates=False)(model, x, target, confidence)
    torch.testing.assert_close(code, paper)  # same values, different graphs
    g_code = weight_grads(model, (code - x).square().sum())
    g_paper = weight_grads(model, (paper - x).square().sum())
    assert g_code.abs().sum() > 0 and g_paper.abs().sum() > 0
    assert not torch.allclose(g_code, g_paper)


def test_points_already_confident_stay_put_but_keep_the_straight_through_gradient():
    model, x = linear_model(), points(8)
    with torch.no_grad():
        prediction = model(x).argmax(dim=1)
    x_adv = UnrolledHighConfidence(steps=5)(model, x, prediction, torch.full((8,), 0.05))
    torch.testing.assert_close(x_adv, x)
    assert weight_grads(model, x_adv.sum()).abs().sum() > 0  # through d round(sigmoid(C - p)) = sigmoid'


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="steps"):
        UnrolledHighConfidence(steps=0)
    with pytest.raises(ValueError, match="overshoot"):
        UnrolledHighConfidence(overshoot=-0.1)
