"""`ShardSampler` and the evaluation loaders under DDP: every point exactly once over the ranks."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch.utils.data import DistributedSampler, TensorDataset

from lit_robust.data.sampler import ShardSampler
from tests.synthetic import synthetic_data


def test_shards_cover_every_point_once_in_rank_order():
    dataset = TensorDataset(torch.arange(7))
    shards = [list(ShardSampler(dataset, num_replicas=3, rank=r)) for r in range(3)]
    assert shards == [[0, 3, 6], [1, 4], [2, 5]]
    assert [len(ShardSampler(dataset, 3, r)) for r in range(3)] == [3, 2, 2]
    assert isinstance(ShardSampler(dataset, 3, 0), DistributedSampler)  # so Lightning keeps it as given


def test_distributed_evaluation_loaders_use_it_and_training_shuffles_as_before():
    data = synthetic_data(num_samples=40, num_test_samples=9, num_classes=2, input_size=4, val_size=10)
    data.setup("fit")
    data.setup("test")
    data.trainer = SimpleNamespace(distributed_sampler_kwargs={"num_replicas": 2, "rank": 1})
    for loader in (data.val_dataloader(), data.test_dataloader(), data.predict_dataloader()):
        assert isinstance(loader.sampler, ShardSampler) and loader.sampler.rank == 1
    assert list(data.test_dataloader().sampler) == [1, 3, 5, 7]
    assert not isinstance(data.train_dataloader().sampler, ShardSampler)
    data.trainer = SimpleNamespace(distributed_sampler_kwargs=None)  # one device
    assert not isinstance(data.val_dataloader().sampler, ShardSampler)
