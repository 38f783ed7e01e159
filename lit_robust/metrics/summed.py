"""`SummedMetric`: the base of the metrics whose states are scalar sums, so that DDP sync is exact."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_robust.validation import check_tensor


class SummedMetric(Metric):
    """A robustness metric whose states are scalars starting at 0, all reduced with ``"sum"``: the value
    synchronised across DDP ranks is exactly the single-process value on the union of the ranks' points.

    Subclasses name their states and dtypes in ``sum_states`` and implement ``update`` and ``compute``.

    Args:
        sync_on_compute: synchronise the sums across processes in ``compute`` (torchmetrics' flag).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    sum_states: ClassVar[dict[str, torch.dtype]] = {}

    def __init__(self, sync_on_compute: bool = True) -> None:
        super().__init__(sync_on_compute=sync_on_compute)
        for name, dtype in self.sum_states.items():
            self.add_state(name, default=torch.tensor(0, dtype=dtype), dist_reduce_fx="sum")

    def check_per_point(
        self, name: str, values: Tensor, kind: str, accepts: Callable[[Tensor], bool]
    ) -> None:
        """The check of ``update``'s argument: raises a ``TypeError`` naming ``kind`` (``"a boolean mask"``)
        unless ``values`` is a tensor that ``accepts`` (its dtype) of shape ``(batch,)``."""
        if not accepts(check_tensor(name, values)) or values.dim() != 1:
            raise TypeError(
                f"{type(self).__name__}.update: {name} must be {kind} of shape (batch,), got dtype "
                f"{values.dtype} and shape {tuple(values.shape)}."
            )
