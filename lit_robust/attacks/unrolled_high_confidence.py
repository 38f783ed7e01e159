"""The adversary-critic paper's training attack: the high-confidence L2 attack, unrolled and differentiable.

This is *not* an :class:`~lit_robust.attacks.Attack`: it returns ``x_adv`` still connected to the autograd
graph, so a loss on ``x_adv`` sends (second-order) gradients back into the classifier's weights, it has no
[0, 1] box and no stopping other than the straight-through indicator, and the caller chooses targets and
confidences. The test-time attack of the paper is :class:`~lit_robust.attacks.HighConfidence`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_robust.attacks.base import Model, check_positive, model_logits, per_sample
from lit_robust.attacks.high_confidence import confidence_step


def straight_through_round(v: Tensor) -> Tensor:
    """``round(v)`` in the forward pass, the identity in the backward pass."""
    return v + (v.round() - v).detach()


class UnrolledHighConfidence:
    """``x_adv = x + (1 + overshoot) * sum_i s_i r_i`` after ``steps`` unrolled steps (Algorithm 1 of Matyasko
    and Chau 2018, as in the authors' TensorFlow code).

    Each step, at ``x_i = x + (1 + overshoot) * r``: ``p_t = softmax(f(x_i))_t``; the still-running indicator
    ``s = s * round(sigmoid(C - p_t))`` (sigmoid-adjusted straight-through: the backward pass sees
    ``sigmoid``); ``g = grad_x log p_t`` computed with ``create_graph=True``, so it depends on the weights;
    ``r_i`` from :func:`~lit_robust.attacks.confidence_step`, the adaptive step
    ``(1e-4 + |log C - log p_t| / |g|) * g / |g|``; ``r = r + s * r_i``.

    Code and paper differ in one place, chosen by ``detach_iterates``: the paper's formula (``False``, the
    default) differentiates through the whole unrolled chain, each ``x_i`` with its dependence on the earlier
    steps (and so on the weights); the authors' code (``True``) stops the gradient at every iterate ``x_i``,
    so the weights receive gradients through each ``r_i`` and ``s`` but not through the earlier iterates that
    ``x_i`` came from, which costs less.

    The attack runs ``model`` in whatever mode it is in (the caller chooses it, see
    :class:`~lit_robust.defenses.AdversaryCritic`'s ``attack_mode``).

    Args:
        steps: number of unrolled steps ``T`` (5 in the paper).
        overshoot: relative overshoot of the perturbation (0.05 in the authors' code).
        detach_iterates: stop the gradient at each iterate (the code) or not (the paper's formula, default).
    """

    def __init__(self, steps: int = 5, overshoot: float = 0.05, detach_iterates: bool = False) -> None:
        check_positive("steps", steps)
        if overshoot < 0:
            raise ValueError(f"overshoot must be >= 0, got {overshoot}.")
        self.steps = steps
        self.overshoot = overshoot
        self.detach_iterates = detach_iterates

    def __call__(self, model: Model, x: Tensor, target: Tensor, confidence: Tensor) -> Tensor:
        """Graph-connected adversarial examples of ``x`` for the classes ``target``.

        Args:
            model: the classifier (logits of ``x``), in the mode it should be attacked in.
            x: the inputs, shape ``(batch, ...)``.
            target: the target class of each input, shape ``(batch,)``.
            confidence: the target confidence ``C`` of each input in (0, 1], shape ``(batch,)``; its gradient,
                if it has one, is kept.
        """
        scale = 1.0 + self.overshoot
        log_c = confidence.log()
        r = torch.zeros_like(x)
        running = torch.ones(len(x), device=x.device, dtype=x.dtype)
        with torch.enable_grad():
            for _ in range(self.steps):
                x_i = x + scale * r
                if self.detach_iterates or not x_i.requires_grad:
                    x_i = x_i.detach().requires_grad_(True)
                log_probs = F.log_softmax(model_logits(model, x_i), dim=1)
                log_p = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
                running = running * straight_through_round(torch.sigmoid(confidence - log_p.exp()))
                (grad,) = torch.autograd.grad(log_p.sum(), x_i, create_graph=True)
                r = r + per_sample(running, x) * confidence_step(grad, log_p, log_c)
        return x + scale * r
