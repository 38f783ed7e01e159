"""`RobustAccuracy`: the fraction of points an attack failed on, from per-point boolean masks."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from lit_robust.metrics.summed import SummedMetric


class RobustAccuracy(SummedMetric):
    """Accumulates per-point "still correctly classified" masks; ``compute`` is robust / total.

    Both states are integer counts (:class:`~lit_robust.metrics.summed.SummedMetric`, which also takes
    ``sync_on_compute``), so the value synchronised across DDP ranks is exactly the single-process value on
    the union of the ranks' points. ``compute`` gives NaN before any point was seen.
    """

    robust: Tensor
    total: Tensor
    sum_states: ClassVar[dict[str, torch.dtype]] = {"robust": torch.long, "total": torch.long}

    def update(self, robust: Tensor) -> None:
        """Adds a boolean mask, ``True`` where the point is still correctly classified."""
        self.check_per_point("robust", robust, "a boolean mask", lambda values: values.dtype == torch.bool)
        self.robust += robust.sum()
        self.total += robust.numel()

    def compute(self) -> Tensor:
        return self.robust.double() / self.total if self.total else torch.tensor(float("nan"))
