"""Carlini and Wagner's L2 attack (2017)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lit_robust.attacks.base import Model
from lit_robust.attacks.binary_search import BinarySearchAttack, EarlyAbort, SearchState
from lit_robust.attacks.gradient import LossFn, input_gradient

_SQUASH = 1 - 1e-6  # keeps atanh finite for pixels at exactly 0 or 1


class CarliniWagnerL2(BinarySearchAttack):
    """Minimises ``||x' - x||_2^2 + c * max(margin, -confidence)`` over ``x' = (tanh(w) + 1) / 2`` with
    Adam, with a per-sample binary search over ``c``; returns per point the smallest successful example,
    and ``x`` unchanged for points it never fooled.

    Settings from the papers: the adversary-critic paper uses 9 binary steps, 1,000 steps, lr 1e-2,
    c 1e-3, confidence 0 (the defaults); Pixel Redrawn uses 1 binary step, 1,000 steps, lr 0.1, c 10.

    Args:
        confidence: margin ``kappa`` by which the adversarial class must win.
        **kwargs: the other arguments of :class:`~lit_robust.attacks.binary_search.BinarySearchAttack`:
            ``c``, ``binary_search_steps`` (Adam restarts from ``x`` each round), ``steps`` (Adam steps per
            round), ``lr`` (Adam's learning rate), ``abort_early``, ``targeted``, ``target``, ``seed``.
    """

    norm = "L2"

    def __init__(self, confidence: float = 0.0, **kwargs: Any) -> None:
        super().__init__(confidence=confidence, **kwargs)

    def minimise(self, model: Model, x: Tensor, signed_margin: LossFn, state: SearchState) -> None:
        c = state.c
        w = torch.atanh((2 * x - 1) * _SQUASH).requires_grad_(True)
        optimizer = torch.optim.Adam([w], lr=self.lr)
        abort = EarlyAbort(self.steps, self.abort_early)

        def weighted_loss(logits: Tensor) -> Tensor:
            return c * self.loss(signed_margin(logits))

        for step in range(self.steps):
            tanh = torch.tanh(w.detach())
            x_adv = (tanh + 1) / 2
            grad, margin_loss, logits = input_gradient(model, x_adv, weighted_loss)
            diff = x_adv - x
            distance = diff.flatten(1).square().sum(dim=1)
            state.record(x_adv, distance, self.success(signed_margin(logits)))
            if abort(step, distance.sum() + margin_loss.sum()):
                break
            w.grad = (grad + 2 * diff) * (1 - tanh.square()) / 2
            optimizer.step()
