"""`RobustAccuracy`: the fraction of points an attack failed on, from per-point boolean masks."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_robust.validation import check_tensor


class RobustAccuracy(Metric):
    """Accumulates per-point "still correctly classified" masks; ``compute`` is robust / total.

    Both states are integer counts reduced with ``"sum"``, so the value synchronised across DDP ranks is
    exactly the single-process value on the union of the ranks' points. ``compute`` gives NaN before any
    point was seen.

    Args:
        sync_on_compute: synchronise the counts across processes in ``compute`` (torchmetrics' flag).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    robust: Tensor
    total: Tensor

    def __init__(self, sync_on_compute: bool = True) -> None:
        super().__init__(sync_on_compute=sync_on_compute)
        self.add_state("robust", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, robust: Tensor) -> None:
        """Adds a boolean mask, ``True`` where the point is still correctly classified."""
        if check_tensor("robust", robust).dtype != torch.bool or robust.dim() != 1:
            raise TypeError(
                f"RobustAccuracy.update: robust must be a boolean mask of shape (batch,), got dtype "
                f"{robust.dtype} and shape {tuple(robust.shape)}."
            )
        self.robust += robust.sum()
        self.total += robust.numel()

    def compute(self) -> Tensor:
        return self.robust.double() / self.total if self.total else torch.tensor(float("nan"))
