"""Samplers of the datamodules: a resumable training order, and evaluation shards without repeats.

`EpochShuffle`: a training order fixed by a seed and the epoch, however often the loader is iterated. A plain
shuffling ``DataLoader`` draws each order from the global RNG when it is iterated, so the order depends on
everything drawn before and on how often Lightning iterated the loader; a run resumed from a checkpoint gets
other orders than the uninterrupted run. Here each epoch's order is a function of ``key`` and the epoch
alone. Lightning sets the epoch (``set_epoch``) before every training epoch, and under DDP it replaces this
sampler, a ``RandomSampler``, by its ``DistributedSampler``, whose order is likewise a function of the
global seed and the epoch.

`ShardSampler`: each process's share of an evaluation set, every point exactly once over the processes.
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


class ShardSampler(DistributedSampler):
    """Rank ``r`` of ``W`` gets the indices ``r, r + W, r + 2W, ...`` below the dataset's length, in order.

    Unlike Lightning's evaluation ``DistributedSampler`` it does not pad the last round with repeated points,
    so metrics summed over processes count each point once, as on one device (the shards differ by at most
    one point). Being a ``DistributedSampler`` already, Lightning keeps it as given.

    Args:
        dataset: the evaluation dataset.
        num_replicas: the number of processes.
        rank: this process's global rank.
    """

    def __init__(self, dataset: Sized, num_replicas: int, rank: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)
        self.num_samples = len(range(rank, len(dataset), num_replicas))
        self.total_size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, len(self.dataset), self.num_replicas))

    def __len__(self) -> int:
        return self.num_samples
