"""`Rho`: the adversary-critic paper's robustness measure, mean ||x_adv - x||_2 / ||x||_2."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from lit_robust.metrics.summed import SummedMetric


def relative_l2(x_adv: Tensor, x: Tensor) -> Tensor:
    """Per-point ``||x_adv - x||_2 / ||x||_2``, shape ``(batch,)``; an all-zero image gives ``inf``
    (or NaN when ``x_adv`` equals it)."""
    return (x_adv - x).flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)


class Rho(SummedMetric):
    """Mean of per-point rho values; NaN entries (points a minimum-norm attack failed on) are left out.

    The paper's rho is the mean over the test set of ``||x_adv - x||_2 / ||x||_2`` with already
    misclassified points counting 0. Where the attack finds no adversarial example, the minimal perturbation
    is unknown: neither 0 (what the unchanged point returned by a failed C&W run would give, calling the
    point trivially breakable) nor the distance of a non-adversarial point is a measurement, so those points
    are not averaged; count them with :class:`RobustAccuracy` (the attack's unbounded robust accuracy).

    The sum is kept in float64 and the count as an integer
    (:class:`~lit_robust.metrics.summed.SummedMetric`, which also takes ``sync_on_compute``).
    """

    total: Tensor
    count: Tensor
    sum_states: ClassVar[dict[str, torch.dtype]] = {"total": torch.float64, "count": torch.long}

    def update(self, rho: Tensor) -> None:
        """Adds per-point values (0 for misclassified points, NaN where the attack failed)."""
        self.check_per_point("rho", rho, "a float tensor", Tensor.is_floating_point)
        if (rho < 0).any():
            raise ValueError(f"Rho.update: rho must be >= 0 (a ratio of norms), got {rho.min().item():.3g}.")
        known = ~rho.isnan()
        self.total += rho[known].double().sum()
        self.count += known.sum()

    def compute(self) -> Tensor:
        return self.total / self.count if self.count else torch.tensor(float("nan"), dtype=torch.float64)
