"""Samplers of the datamodules: a resumable training order, and evaluation shards without padding.

`EpochShuffle`: a training order fixed by a seed and the epoch, however often the loader is iterated.

A plain shuffling ``DataLoader`` draws each order (and its workers' base seed) from the global RNG when it
is iterated, so the order depends on everything drawn before and on how often Lightning iterated the
loader; a run resumed from a checkpoint gets other orders than the uninterrupted run. Here each epoch's
order is a function of ``key`` and the epoch alone. Lightning sets the epoch (``set_epoch``) before every
training epoch, and under DDP it replaces this sampler, a ``RandomSampler``, by its ``DistributedSampler``,
whose order is likewise a function of the global seed and the epoch.

`EvaluationShard`: under DDP, the evaluation loaders' shards, which together hold every point exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import torch
from torch.utils.data import DistributedSampler, RandomSampler

from lit_robust.data.seeding import seeded_generator


class EpochShuffle(RandomSampler):
    """A random permutation of ``data_source`` per epoch, drawn from a generator seeded by ``(key, epoch)``.

    Args:
        data_source: the dataset.
        key: integers the orders follow from (for example the global seed and the datamodule's seed).
        epoch: the first epoch (Lightning updates it with :meth:`set_epoch`).
    """

    def __init__(self, data_source: Sized, key: tuple[int, ...], epoch: int = 0) -> None:
        super().__init__(data_source)
        self.key = key
        self.epoch = epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        # no generator kept on the sampler: torch cannot send one to spawned (ddp_spawn) processes
        order = torch.randperm(len(self.data_source), generator=seeded_generator(*self.key, self.epoch))
        return iter(order.tolist())


class EvaluationShard(DistributedSampler):
    """Rank ``r`` of ``W`` gets points ``r, r + W, ...`` of an evaluation set, without the padding of a plain
    ``DistributedSampler`` (which repeats up to ``W - 1`` points so that every rank gets as many): counts
    summed across ranks, and Lightning's ``sync_dist`` means (weighted by batch size), are then exactly the
    single-process values. Ranks may get one batch more or less, so the evaluation loop must not run
    collective operations per batch (lit_robust's metrics and callbacks synchronise at the epoch's end).

    Args:
        dataset: the evaluation set.
        num_replicas: the number of processes, ``W``.
        rank: this process's global rank, ``r``.
    """

    def __init__(self, dataset: Sized, num_replicas: int, rank: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)  # type: ignore[arg-type]
        self.num_samples = len(range(rank, len(dataset), num_replicas))
        self.total_size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.total_size, self.num_replicas))
