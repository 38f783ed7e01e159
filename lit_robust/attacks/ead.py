"""Elastic-net attack (EAD, Chen et al. 2018)."""

from __future__ import annotations

from typing import Any, Literal, get_args

import torch
from torch import Tensor

from lit_robust.attacks.base import Model, check_choice, check_positive, model_logits
from lit_robust.attacks.binary_search import BinarySearchAttack, EarlyAbort, SearchState
from lit_robust.attacks.gradient import LossFn, input_gradient

DecisionRule = Literal["EN", "L1"]


def shrink(z: Tensor, x: Tensor, beta: float) -> Tensor:
    """Projected shrinkage-thresholding: soft-thresholds ``z - x`` by ``beta``, clipped to [0, 1]."""
    diff = z - x
    return torch.where(
        diff > beta, (z - beta).clamp(max=1.0), torch.where(diff < -beta, (z + beta).clamp(min=0.0), x)
    )


class EAD(BinarySearchAttack):
    """Minimises ``c * max(margin, -confidence) + ||x' - x||_2^2 + beta * ||x' - x||_1`` over the [0, 1] box
    by iterative shrinkage-thresholding (ISTA, or FISTA with its slack variable), with a per-sample binary
    search over ``c``. The threshold is ``beta`` and the learning rate decays as ``lr * (1 - k / steps)^0.5``,
    as in the paper. Per point keeps the successful iterate with the smallest elastic-net (``"EN"``) or L1
    (``"L1"``) distance; returns ``x`` unchanged for points it never fooled.

    Args:
        beta: weight of the L1 term.
        decision_rule: distance that picks the best successful iterate: ``"EN"`` or ``"L1"``.
        fista: use FISTA's accelerated slack variable instead of plain ISTA.
        **kwargs: the other arguments of :class:`~lit_robust.attacks.binary_search.BinarySearchAttack`:
            ``c``, ``binary_search_steps`` (each round restarts from ``x``), ``steps`` (two forward passes
            and one backward pass each), ``lr`` (the initial learning rate), ``confidence``,
            ``abort_early``, ``targeted``, ``target``, ``seed``.
    """

    norm = "L1"

    def __init__(
        self, beta: float = 1e-3, *, decision_rule: DecisionRule = "EN", fista: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        check_positive("beta", beta)
        check_choice("decision_rule", decision_rule, get_args(DecisionRule))
        self.beta = beta
        self.decision_rule = decision_rule
        self.fista = fista

    def minimise(self, model: Model, x: Tensor, signed_margin: LossFn, state: SearchState) -> None:
        c = state.c
        x_k = slack = x
        abort = EarlyAbort(self.steps, self.abort_early)

        def weighted_loss(logits: Tensor) -> Tensor:
            return c * self.loss(signed_margin(logits))

        for step in range(self.steps):
            lr = self.lr * (1 - step / self.steps) ** 0.5
            grad, _, _ = input_gradient(model, slack, weighted_loss)
            x_next = shrink(slack - lr * (grad + 2 * (slack - x)), x, self.beta)
            slack = x_next + (step + 1) / (step + 4) * (x_next - x_k) if self.fista else x_next
            x_k = x_next
            with torch.no_grad():
                margins = signed_margin(model_logits(model, x_k))
            diff = (x_k - x).flatten(1)
            l1 = diff.abs().sum(dim=1)
            elastic = diff.square().sum(dim=1) + self.beta * l1
            state.record(x_k, elastic if self.decision_rule == "EN" else l1, self.success(margins))
            if abort(step, (c * self.loss(margins) + elastic).sum()):
                break
