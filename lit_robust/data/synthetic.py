"""Random but learnable images, generated deterministically in memory: for tests and demos."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_robust.data.base import InMemoryImageDataModule, Split, check_int
from lit_robust.data.dataset import Batch
from lit_robust.data.seeding import seeded_generator

PATTERN_AMPLITUDE = 0.3
PATTERN_GRID = 4
SPLIT_KEYS: dict[Split, int] = {"train": 1, "test": 2}


class SyntheticImages(InMemoryImageDataModule):
    """Images whose class is their smooth mean pattern, plus pixel noise; a small model learns them quickly.

    Each class has a pattern drawn uniformly in ``[-0.3, 0.3]`` on a 4x4 grid and upsampled (bilinear) to
    ``input_size``; an image is ``0.5 + pattern + noise_std * N(0, 1)`` clamped to [0, 1] and stored as
    uint8. Labels are balanced. Everything follows from ``seed``: the patterns, the training and test
    images and the validation split. ``mean`` and ``std`` are those of the unclamped distribution.

    Args:
        num_samples: Images in the training split (before the validation hold-out).
        num_test_samples: Images in the test split.
        num_classes: Number of classes.
        in_channels: Channels per image.
        input_size: Side of the square images.
        noise_std: Standard deviation of the pixel noise.
        seed: Seed of the patterns, the images and the train/validation split.
        batch_size: Training batch size.
        eval_batch_size: Batch size for validation, test and predict; ``None`` uses ``batch_size``.
        val_size: Images of the training split held out for validation: a count, or a fraction in [0, 1)
            (rounded, at least one image); 0 disables validation.
        num_workers: DataLoader worker processes (0 loads in the main process).
        augment: Randomly crop (``input_size // 8`` pixels of padding) and mirror training batches.
        device_resident: Keep each split on the trainer's device and index batches there (``num_workers=0``).
    """

    def __init__(
        self,
        num_samples: int = 1024,
        num_test_samples: int = 256,
        num_classes: int = 10,
        in_channels: int = 3,
        input_size: int = 32,
        noise_std: float = 0.1,
        seed: int = 0,
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        val_size: int | float = 0.1,
        num_workers: int = 0,
        augment: bool = False,
        device_resident: bool = False,
    ) -> None:
        check_int("num_samples", num_samples, 1)
        check_int("num_test_samples", num_test_samples, 1)
        check_int("num_classes", num_classes, 2)
        check_int("in_channels", in_channels, 1)
        check_int("input_size", input_size, 1)
        if not noise_std >= 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}.")
        super().__init__(
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            val_size=val_size,
            seed=seed,
            num_workers=num_workers,
            augment=augment,
            device_resident=device_resident,
        )
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.input_size = input_size
        self.patterns = self._class_patterns()
        self.mean = tuple((0.5 + self.patterns.mean(dim=(0, 2, 3))).tolist())
        variance = self.patterns.var(dim=(0, 2, 3), unbiased=False) + noise_std**2
        self.std = tuple(variance.sqrt().tolist())

    def _class_patterns(self) -> Tensor:
        shape = (self.num_classes, self.in_channels, PATTERN_GRID, PATTERN_GRID)
        coarse = torch.rand(shape, generator=seeded_generator(self.hparams.seed, 0)) * 2 - 1
        size = (self.input_size, self.input_size)
        return PATTERN_AMPLITUDE * F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)

    def prepare_data(self) -> None:
        """Nothing to prepare: the images are generated in :meth:`setup`."""

    def load_split(self, split: Split) -> Batch:
        count = self.hparams.num_samples if split == "train" else self.hparams.num_test_samples
        generator = seeded_generator(self.hparams.seed, SPLIT_KEYS[split])
        labels = (torch.arange(count) % self.num_classes)[torch.randperm(count, generator=generator)]
        noise = torch.randn((count, *self.patterns.shape[1:]), generator=generator) * self.hparams.noise_std
        images = (0.5 + self.patterns[labels] + noise).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return images, labels
