"""`PrecomputeStep`: a change of whole splits made once, at setup, before any loader serves them.

:class:`~lit_robust.data.ImageDataModule` runs its ``steps`` in order on every split it builds (``"train"``,
``"val"``, ``"test"``): each step gets the split's data as the previous step left it (first the source's
uint8 ``(images, labels)``) and returns the new data, or the data as it is for splits it does not change.
A step may return a dataset instead of tensors (a map-style dataset with ``__getitems__`` and ``to(device)``
serving whole batches, as :class:`~lit_robust.data.perturbed_copies.PerturbedCopies`); a later step that
needs tensors then says so (:func:`require_tensors`).
"""

from __future__ import annotations

from typing import Literal

from torch.utils.data import Dataset

from lit_robust.data.dataset import Batch
from lit_robust.data.source import ImageSource

Stage = Literal["train", "val", "test"]
"""The splits a datamodule builds: the training and validation parts of the source's training split, and
its test split."""
SplitData = Batch | Dataset
"""A split as the steps pass it on: uint8 ``(images, labels)``, or a dataset serving whole batches."""


class PrecomputeStep:
    """Changes some of a datamodule's splits once, at setup (in YAML an entry of ``steps:``)."""

    def __call__(self, split: Stage, data: SplitData, source: ImageSource) -> SplitData:
        """Returns ``split``'s new data (``data`` itself for splits this step leaves alone).

        Args:
            split: which split ``data`` is.
            data: the split as the previous step left it.
            source: the datamodule's source (its metadata: ``input_size``, ``hflip``, its class for caches).
        """
        raise NotImplementedError


def require_tensors(data: SplitData, step: PrecomputeStep) -> Batch:
    """``data`` as ``(images, labels)`` tensors; a ValueError naming ``step`` when an earlier step made it a
    dataset (put ``step`` before that one)."""
    if not isinstance(data, tuple):
        raise ValueError(
            f"{type(step).__name__} needs the images as tensors, but an earlier step made them a"
            f" {type(data).__name__}: put {type(step).__name__} before that step in steps."
        )
    return data
