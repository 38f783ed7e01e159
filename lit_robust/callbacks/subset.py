"""`EvaluationSubset`: the first ``num_samples`` points of an evaluation loader, collected as batches pass.

With DDP, the evaluation sampler (lit_robust's :class:`~lit_robust.data.sampler.ShardSampler`, or
Lightning's ``DistributedSampler`` with ``shuffle=False``) gives rank ``r`` of ``W`` the dataset indices
``r, r + W, r + 2W, ...``; Lightning's pads the last round with repeats of the first indices. The
``k``-th point a rank sees therefore has global index ``r + k * W``; a point is kept only if that index is
below ``num_samples`` and below the dataset's length (the padding repeats have larger ones). The ranks'
shares (``ceil`` or ``floor`` of ``num_samples / W``) are disjoint and together exactly the first
``num_samples`` points, which :meth:`gather` puts back in dataset order on every rank.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor
from torch.utils.data import DataLoader, DistributedSampler


class EvaluationSubset:
    """Collects the first ``num_samples`` points of one pass over an evaluation loader.

    Args:
        num_samples: size of the subset (fewer when the dataset is smaller).
    """

    def __init__(self, num_samples: int) -> None:
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}.")
        self.num_samples = num_samples
        self.reset()

    def reset(self, rank: int = 0, world_size: int = 1, loader: DataLoader | None = None) -> None:
        """Starts a new pass of ``loader`` (used to find the dataset's length) on process ``rank``."""
        self.rank, self.world_size = rank, world_size
        length = _dataset_length(loader)
        self.limit = self.num_samples if length is None else min(self.num_samples, length)
        self._seen = 0
        self._parts: list[tuple[Tensor, Tensor, Tensor]] = []
        if world_size > 1 and loader is not None:
            _check_sampler(loader)

    @property
    def share(self) -> int:
        """The most points any rank contributes."""
        return math.ceil(self.limit / self.world_size)

    @property
    def complete(self) -> bool:
        return self.rank + self._seen * self.world_size >= self.limit

    def add(self, x: Tensor, y: Tensor) -> None:
        """Keeps the batch's points that belong to the subset (copies made outside inference mode)."""
        if not x.is_floating_point():
            raise TypeError(
                f"the evaluation batch has {x.dtype} images; robustness callbacks need floats in [0, 1] "
                "(convert them in the datamodule's on_after_batch_transfer)."
            )
        if self.complete:
            return
        index = self.rank + (self._seen + torch.arange(len(x), device=x.device)) * self.world_size
        keep = index < self.limit
        self._seen += len(x)
        with torch.inference_mode(False):
            self._parts.append((x[keep].clone(), y[keep].clone(), index[keep].clone()))

    def gather(self) -> tuple[Tensor, Tensor]:
        """The whole subset in dataset order, on every rank (every rank must call this)."""
        with torch.inference_mode(False):
            x, y, index = (torch.cat(parts) for parts in zip(*self._parts, strict=True))
            if self.world_size > 1:
                x, y, index = (_pad(t, self.share, fill) for t, fill in ((x, 0), (y, 0), (index, -1)))
                x, y, index = (_all_gather(t).flatten(0, 1) for t in (x, y, index))
                keep = index >= 0
                x, y, index = x[keep], y[keep], index[keep]
            order = index.argsort()
            return x[order], y[order]


def _all_gather(t: Tensor) -> Tensor:
    """Every rank's ``t`` (the same shape on each), stacked in rank order."""
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.contiguous())
    return torch.stack(parts)


def _pad(t: Tensor, size: int, fill: int) -> Tensor:
    return torch.cat([t, t.new_full((size - len(t), *t.shape[1:]), fill)])


def _dataset_length(loader: DataLoader | None) -> int | None:
    dataset = getattr(loader, "dataset", None)
    try:
        return len(dataset) if dataset is not None else None
    except TypeError:
        return None


def _check_sampler(loader: DataLoader) -> None:
    sampler = getattr(loader, "sampler", None)
    if not (isinstance(sampler, DistributedSampler) and not sampler.shuffle):
        rank_zero_warn(
            f"the evaluation loader's sampler is {type(sampler).__name__}, not an unshuffled "
            "DistributedSampler: the robustness subset assumes rank r sees points r, r + W, ..., so "
            "points may be duplicated or missed across ranks."
        )
