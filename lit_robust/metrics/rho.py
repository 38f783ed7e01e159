"""`Rho`: the adversary-critic paper's robustness measure, mean ||x_adv - x||_2 / ||x||_2."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_robust.validation import check_tensor


def relative_l2(x_adv: Tensor, x: Tensor) -> Tensor:
    """Per-point ``||x_adv - x||_2 / ||x||_2``, shape ``(batch,)``; an all-zero image gives ``inf``
    (or NaN when ``x_adv`` equals it)."""
    return (x_adv - x).flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)


class Rho(Metric):
    """Mean of per-point rho values; NaN entries (points a minimum-norm attack failed on) are left out.

    The paper's rho is the mean over the test set of ``||x_adv - x||_2 / ||x||_2`` with already
    misclassified points counting 0. Where the attack finds no adversarial example, the minimal perturbation
    is unknown: neither 0 (what the unchanged point returned by a failed C&W run would give, calling the
    point trivially breakable) nor the distance of a non-adversarial point is a measurement, so those points
    are not averaged; count them with :class:`RobustAccuracy` (the attack's unbounded robust accuracy).

    The sum is kept in float64 and the count as an integer, both reduced with ``"sum"`` across processes.

    Args:
        sync_on_compute: synchronise the sums across processes in ``compute`` (torchmetrics' flag).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    total: Tensor
    count: Tensor

    def __init__(self, sync_on_compute: bool = True) -> None:
        super().__init__(sync_on_compute=sync_on_compute)
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, rho: Tensor) -> None:
        """Adds per-point values (0 for misclassified points, NaN where the attack failed)."""
        if not check_tensor("rho", rho).is_floating_point() or rho.dim() != 1:
            raise TypeError(
                f"Rho.update: rho must be a float tensor of shape (batch,), got dtype {rho.dtype} and shape "
                f"{tuple(rho.shape)}."
            )
        if (rho < 0).any():
            raise ValueError(f"Rho.update: rho must be >= 0 (a ratio of norms), got {rho.min().item():.3g}.")
        known = ~rho.isnan()
        self.total += rho[known].double().sum()
        self.count += known.sum()

    def compute(self) -> Tensor:
        return self.total / self.count if self.count else torch.tensor(float("nan"), dtype=torch.float64)
