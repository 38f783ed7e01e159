"""A map-style dataset over in-memory uint8 images that serves whole batches with one tensor index."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

Batch = tuple[Tensor, Tensor]


class TensorImageDataset(Dataset[Batch]):
    """Images ``(N, C, H, W)`` and labels ``(N,)`` held in memory.

    torch's DataLoader calls :meth:`__getitems__` with the list of indices of a batch, so a batch costs one
    tensor index instead of ``batch_size`` item lookups and a collate. Use it with
    ``collate_fn=keep_batch`` because the batch comes out already stacked. The tensors may live on a GPU:
    the sampler's indices are then copied there without synchronising the device, and so is the batch.

    Args:
        images: uint8 images, shape ``(N, C, H, W)``.
        labels: int64 labels, shape ``(N,)``.
    """

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"got {images.shape[0]} images but {labels.shape[0]} labels.")
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return self.labels.shape[0]

    def __getitem__(self, index: int) -> Batch:
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.long)
        if self.images.is_cuda:  # pinned memory: the copy does not wait for the queued kernels
            index = index.pin_memory().to(self.images.device, non_blocking=True)
        return self.images[index], self.labels[index]

    def to(self, device: torch.device | str) -> TensorImageDataset:
        """A dataset over the same images and labels on ``device``."""
        return TensorImageDataset(self.images.to(device), self.labels.to(device))


def keep_batch(batch: Batch) -> Batch:
    """Collate function for :class:`TensorImageDataset`: the batch is already stacked, return it as is."""
    return batch
