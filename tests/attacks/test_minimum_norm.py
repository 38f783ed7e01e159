"""Minimum-norm attacks on the trained model: C&W, EAD, DeepFool and the high-confidence attack."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_robust.attacks import EAD, CarliniWagnerL2, DeepFool, HighConfidence, flat_norm, select_targets
from lit_robust.attacks.objectives import margin

from .test_strength import Scaled


def predictions(model: nn.Module, x: Tensor) -> Tensor:
    with torch.no_grad():
        return model(x).argmax(dim=1)


def test_more_binary_search_steps_never_increase_the_perturbation(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    one = CarliniWagnerL2(c=0.03, binary_search_steps=1, steps=50, lr=0.05)(model, x, y)
    four = CarliniWagnerL2(c=0.03, binary_search_steps=4, steps=50, lr=0.05)(model, x, y)
    fooled_one, fooled_four = predictions(model, one) != y, predictions(model, four) != y
    assert fooled_four[fooled_one].all() and fooled_four.sum() > fooled_one.sum()
    l2_one, l2_four = flat_norm(one - x, "L2"), flat_norm(four - x, "L2")
    assert (l2_four[fooled_one] <= l2_one[fooled_one] + 1e-6).all()


def test_carlini_wagner_returns_unfooled_points_unchanged(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    x_adv = CarliniWagnerL2(c=1e-3, binary_search_steps=1, steps=20)(model, x, y)  # too weak to fool most
    unfooled = predictions(model, x_adv) == y
    assert unfooled.any()
    assert torch.equal(x_adv[unfooled], x[unfooled])


def test_carlini_wagner_confidence_is_the_margin_it_reaches(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    x_adv = CarliniWagnerL2(confidence=2.0, c=1.0, binary_search_steps=3, steps=100, lr=0.05)(model, x, y)
    with torch.no_grad():
        margins = margin(model(x_adv), y)
    changed = (x_adv != x).flatten(1).any(dim=1)
    assert changed.float().mean() > 0.9
    assert (margins[changed] < -2.0).all()


def test_targeted_carlini_wagner_reaches_its_targets(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:64], data[1][:64]
    target = select_targets(model, x, y, "least_likely")
    x_adv = CarliniWagnerL2(c=1.0, binary_search_steps=3, steps=100, lr=0.05, targeted=True)(model, x, y)
    assert (predictions(model, x_adv) == target).float().mean() > 0.9


def test_ead_with_l1_rule_finds_sparser_perturbations_than_carlini_wagner(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    cw = CarliniWagnerL2(c=1.0, binary_search_steps=3, steps=100, lr=0.05)(model, x, y)
    ead = EAD(beta=0.05, c=1.0, binary_search_steps=3, steps=100, lr=0.05, decision_rule="L1")(model, x, y)
    fooled = (predictions(model, cw) != y) & (predictions(model, ead) != y)
    assert fooled.float().mean() > 0.9
    delta_ead, delta_cw = (ead - x)[fooled], (cw - x)[fooled]
    assert flat_norm(delta_ead, "L1").median() < flat_norm(delta_cw, "L1").median()
    assert flat_norm(delta_cw, "L2").median() < flat_norm(delta_ead, "L2").median()
    assert (delta_ead.abs() > 1e-4).float().mean() < 0.5 * (delta_cw.abs() > 1e-4).float().mean()


def test_ista_and_fista_both_fool_the_model(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:32], data[1][:32]
    for fista in (True, False):
        x_adv = EAD(c=1.0, binary_search_steps=2, steps=100, lr=0.05, fista=fista)(model, x, y)
        assert (predictions(model, x_adv) != y).float().mean() > 0.9


def test_deepfool_fools_every_point_and_leaves_misclassified_points_alone(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1].clone()[:64]
    y[:8] = (y[:8] + 1) % 10  # these points start misclassified
    x_adv = DeepFool()(model, x, y)
    assert (predictions(model, x_adv) != y).all()
    assert torch.equal(x_adv[:8], x[:8])
    assert (flat_norm(x_adv[8:] - x[8:], "L2") > 0).all()


def test_deepfool_step_clip_and_candidate_restriction(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:64], data[1][:64]
    full = DeepFool()(model, x, y)
    assert torch.equal(DeepFool(num_candidates=9)(model, x, y), full)
    one_step = DeepFool(steps=1, max_step_norm=0.05, overshoot=0.0)(model, x, y)
    assert (flat_norm(one_step - x, "L2") <= 0.05 + 1e-6).all()
    clipped = DeepFool(steps=500, max_step_norm=0.1)(model, x, y)
    assert (predictions(model, clipped) != y).all()
    restricted = DeepFool(num_candidates=2)(model, x, y)
    assert (predictions(model, restricted) != y).float().mean() > 0.9


def test_high_confidence_attack_reaches_the_original_confidence_on_the_closest_class(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    tempered = Scaled(model, 0.25)  # the trained model's float32 confidence is often exactly 1
    with torch.no_grad():
        confidence = F.softmax(tempered(x), dim=1).amax(dim=1)
    assert confidence.max() < 1
    target = select_targets(tempered, x, y, "closest")
    x_adv = HighConfidence()(tempered, x, y)
    with torch.no_grad():
        probabilities = F.softmax(tempered(x_adv), dim=1)
    p_target = probabilities.gather(1, target[:, None]).squeeze(1)
    assert ((probabilities.argmax(dim=1) == target) & (p_target >= confidence)).float().mean() > 0.9
    deepfool = DeepFool(steps=500, max_step_norm=0.1)(tempered, x, y)
    assert flat_norm(x_adv - x, "L2").median() > flat_norm(deepfool - x, "L2").median()


def test_high_confidence_attack_on_a_saturated_model_stops_one_float_epsilon_below_one(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    with torch.no_grad():
        log_confidence = F.log_softmax(model(x), dim=1).amax(dim=1)
    assert (log_confidence == 0).any()  # float32 confidence exactly 1: unreachable without the cap
    target = select_targets(model, x, y, "closest")
    x_adv = HighConfidence()(model, x, y)
    with torch.no_grad():
        log_p = F.log_softmax(model(x_adv), dim=1)
    assert (log_p.argmax(dim=1) == target).all()
    goal = log_confidence.clamp(max=math.log1p(-torch.finfo(torch.float32).eps))
    # the attack evaluated smaller batches (only the points still running): allow float rounding
    assert (log_p.gather(1, target[:, None]).squeeze(1) >= goal - 1e-6).all()


def test_high_confidence_attack_with_fixed_confidence_and_given_targets(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:64], data[1][:64]
    target = (y + 3) % 10
    x_adv = HighConfidence(confidence=0.9, target="given")(model, x, target)
    with torch.no_grad():
        probabilities = F.softmax(model(x_adv), dim=1)
    assert (probabilities.gather(1, target[:, None]) >= 0.9).float().mean() > 0.9
