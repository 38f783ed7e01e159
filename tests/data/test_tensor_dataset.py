"""TensorImageDataset: whole batches through one tensor index, with torch's standard DataLoader."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from lit_robust.data import TensorImageDataset, keep_batch


def make_dataset(count: int = 10) -> TensorImageDataset:
    images = torch.randint(0, 256, (count, 2, 4, 4), dtype=torch.uint8)
    return TensorImageDataset(images, torch.arange(count))


def test_getitems_equals_per_item_indexing():
    dataset = make_dataset()
    indices = [7, 2, 2, 9, 0]
    images, labels = dataset.__getitems__(indices)
    items = [dataset[i] for i in indices]
    assert torch.equal(images, torch.stack([image for image, _ in items]))
    assert torch.equal(labels, torch.stack([label for _, label in items]))
    assert len(dataset) == 10


def test_dataloader_fetches_batches_through_getitems():
    dataset = make_dataset(10)
    batches = list(DataLoader(dataset, batch_size=4, shuffle=False, collate_fn=keep_batch))
    # keep_batch returns what the fetcher got: a stacked tuple only if __getitems__ was called.
    assert [tuple(images.shape) for images, _ in batches] == [(4, 2, 4, 4), (4, 2, 4, 4), (2, 2, 4, 4)]
    assert torch.equal(torch.cat([images for images, _ in batches]), dataset.images)
    assert torch.equal(torch.cat([labels for _, labels in batches]), dataset.labels)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        TensorImageDataset(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), torch.zeros(2, dtype=torch.long))
