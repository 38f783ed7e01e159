"""DeepFool (Moosavi-Dezfooli et al. 2016), multi-class L2."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_robust.attacks.base import (
    Attack,
    Model,
    check_positive,
    clip_norm,
    flat_norm,
    model_logits,
    per_sample,
)
from lit_robust.attacks.linear import boundaries, closest, other_classes
from lit_robust.attacks.per_point import iterate_until_done


class DeepFool(Attack):
    """Steps each point onto the nearest linearised decision boundary of its label until it is
    misclassified: ``r = (|f_l| + 1e-4) / ||w_l||^2 * w_l`` for the closest class ``l``, applied as
    ``x <- clip(x + (1 + overshoot) * r, 0, 1)``. Without the box this is the paper's
    ``x + (1 + overshoot) * sum(r)``; with it, each update is projected onto the box, as the adversary-critic
    paper does. Points that start misclassified are returned unchanged; points still correct after ``steps``
    return their last iterate.

    The per-class gradients of a step come from one batched forward and backward pass (see
    :func:`lit_robust.attacks.linear.boundaries`), only for the points still correct. The adversary-critic
    paper evaluates with ``steps=500, max_step_norm=0.1`` (overshoot 0.02, box [0, 1]).

    Args:
        steps: maximum number of iterations.
        overshoot: relative overshoot applied to each step.
        max_step_norm: L2 norm each step ``r`` is clipped to before the overshoot; ``None`` for no clip.
        num_candidates: number of other classes considered, the highest-scoring on the clean input;
            ``None`` for all.
    """

    norm = "L2"
    minimum_norm = True

    def __init__(
        self,
        steps: int = 50,
        overshoot: float = 0.02,
        max_step_norm: float | None = None,
        num_candidates: int | None = None,
    ) -> None:
        super().__init__(None)
        check_positive("steps", steps)
        check_positive("max_step_norm", max_step_norm, allow_none=True)
        check_positive("num_candidates", num_candidates, allow_none=True)
        self.steps = steps
        self.overshoot = overshoot
        self.max_step_norm = max_step_norm
        self.num_candidates = num_candidates

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        with torch.no_grad():
            candidates = other_classes(model_logits(model, x), y, self.num_candidates)

        def update(x_active: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
            f, w, logits = boundaries(model, x_active, y[index], candidates[index])
            rows = torch.arange(f.shape[0], device=f.device)
            nearest = closest(f, w)
            f_l, w_l = f[rows, nearest], w[rows, nearest]
            step = per_sample((f_l.abs() + 1e-4) / flat_norm(w_l, "L2").square().clamp_min(1e-12), w_l) * w_l
            moved = x_active + (1 + self.overshoot) * clip_norm(step, self.max_step_norm)
            return logits.argmax(dim=1) != y[index], moved.clamp(0.0, 1.0)

        return iterate_until_done(x, self.steps, update)
