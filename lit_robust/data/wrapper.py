"""`DataModuleWrapper`: the base of datamodules that wrap another one and change some of its splits."""

from __future__ import annotations

from torch import Tensor
from torch.utils.data import DataLoader

from lit_robust.data.base import InMemoryImageDataModule


class DataModuleWrapper(InMemoryImageDataModule):
    """Serves a wrapped datamodule (``base``) after changing some of its splits.

    The metadata (``num_classes``, ``in_channels``, ``input_size``, ``mean``, ``std``) is the base's, so the
    CLI links work. Every loader is the base's own (its batch size, workers and ``device_resident``
    option apply): a subclass builds the changed split in :meth:`setup`, after calling this one, and
    assigns it to both ``self.<split>_data`` and ``self.base.<split>_data``. Batches become floats in
    [0, 1] on the device as in the base; augmentation is :meth:`augment_batch` of the base, applied when
    the wrapper's own ``augment`` is set. In YAML the base is nested:
    ``base: {class_path: FashionMNIST, init_args: {...}}``.

    Args:
        base: the wrapped datamodule.
        seed: seed of whatever the wrapper generates.
        augment: augment every training batch with the base's :meth:`augment_batch`.
    """

    def __init__(self, base: InMemoryImageDataModule, seed: int = 0, augment: bool = False) -> None:
        super().__init__(seed=seed, augment=augment)
        self.base = base
        self.num_classes = base.num_classes
        self.in_channels = base.in_channels
        self.input_size = base.input_size
        self.mean = base.mean
        self.std = base.std

    def prepare_data(self) -> None:
        self.base.prepare_data()

    def setup(self, stage: str) -> None:
        """Sets up the base for ``stage``; subclasses then change its splits."""
        self.base.setup(stage)

    def train_dataloader(self) -> DataLoader:
        return self.base.train_dataloader()

    def val_dataloader(self) -> DataLoader | list:
        return self.base.val_dataloader()

    def test_dataloader(self) -> DataLoader:
        return self.base.test_dataloader()

    def predict_dataloader(self) -> DataLoader:
        return self.base.predict_dataloader()

    def augment_batch(self, images: Tensor) -> Tensor:
        """The base's augmentation."""
        return self.base.augment_batch(images)
