"""`InterraterAgreement`: the diversity of an ensemble's members (Kuncheva and Whitaker 2003)."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_robust.validation import check_int, check_labels, check_tensor


class InterraterAgreement(Metric):
    """Interrater agreement kappa of ``num_raters`` classifiers over the points seen; lower is more diverse.

    With L classifiers, N points, ``l(x_j)`` the number of classifiers correct on point ``x_j`` and
    ``p_bar`` their mean accuracy::

        kappa = 1 - [(1/L) sum_j l(x_j) (L - l(x_j))] / [N (L - 1) p_bar (1 - p_bar)]

    (Kuncheva and Whitaker 2003, Eq. 16; Fleiss' kappa of the classifiers' correct/incorrect outputs).
    kappa is 1 when the classifiers are all right or all wrong together on every point, 0 when they err
    independently, and negative when they disagree more than that. When ``p_bar`` is 0 or 1 (every
    classifier right, or wrong, everywhere), the formula is 0/0 and kappa is 1 (complete agreement).

    The states are sums over points (correct votes, ``sum_j l(x_j) (L - l(x_j))`` and the point count),
    reduced with ``"sum"``, so the value synchronised across DDP ranks is exactly the single-process value.
    ``compute`` gives NaN before any point was seen.

    The L raters must be L different classifiers: one counted twice always agrees with itself, which
    raises kappa (draw a layer-sampled ensemble's paths with ``sample_paths(..., distinct=True)``, as
    :class:`~lit_robust.callbacks.EnsembleDiversity` does).

    Args:
        num_raters: L, the number of classifiers (for example N sampled models of a layer-sampled ensemble).
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    correct: Tensor
    disagreement: Tensor
    total: Tensor

    def __init__(self, num_raters: int) -> None:
        super().__init__()
        check_int("InterraterAgreement: num_raters", num_raters, 2)
        self.num_raters = num_raters
        self.add_state("correct", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("disagreement", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Adds a batch: ``preds`` are the raters' classes ``(L, batch)`` or logits ``(L, batch, C)``."""
        check_labels(target, None, "target")
        check_tensor("preds", preds)
        if preds.dim() == 3:
            preds = preds.argmax(dim=-1)
        if preds.dim() != 2 or preds.shape != (self.num_raters, len(target)):
            raise ValueError(
                f"preds must be ({self.num_raters}, batch) classes or ({self.num_raters}, batch, classes) "
                f"logits for {len(target)} targets, got shape {tuple(preds.shape)}."
            )
        votes = (preds == target).sum(dim=0)
        self.correct += votes.sum()
        self.disagreement += (votes * (self.num_raters - votes)).sum()
        self.total += len(target)

    def compute(self) -> Tensor:
        if not self.total:
            return torch.tensor(float("nan"))
        raters = self.num_raters
        p_bar = self.correct.double() / (self.total * raters)
        denominator = self.total * (raters - 1) * p_bar * (1 - p_bar)
        if denominator == 0:
            return torch.tensor(1.0, dtype=torch.float64)
        return 1 - (self.disagreement.double() / raters) / denominator
