"""`EpochShuffle`: a training order fixed by a seed and the epoch, however often the loader is iterated.

A plain shuffling ``DataLoader`` draws each order (and its workers' base seed) from the global RNG when it
is iterated, so the order depends on everything drawn before and on how often Lightning iterated the
loader; a run resumed from a checkpoint gets other orders than the uninterrupted run. Here each epoch's
order is a function of ``key`` and the epoch alone. Lightning sets the epoch (``set_epoch``) before every
training epoch, and under DDP it replaces this sampler, a ``RandomSampler``, by its ``DistributedSampler``,
whose order is likewise a function of the global seed and the epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

from torch.utils.data import RandomSampler

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
        self.generator = seeded_generator(*self.key, self.epoch)
        return super().__iter__()
