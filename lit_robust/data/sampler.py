"""`ShardSampler`: each process's share of an evaluation set, every point exactly once over the processes."""

from __future__ import annotations

from collections.abc import Iterator, Sized

from torch.utils.data import DistributedSampler


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
