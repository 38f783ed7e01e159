"""Random but learnable images, generated deterministically in memory: for tests and demos."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_robust.data.dataset import Batch
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.source import ImageSource, Split
from lit_robust.validation import check_int

PATTERN_AMPLITUDE = 0.3
PATTERN_GRID = 4
SPLIT_KEYS: dict[Split, int] = {"train": 1, "test": 2}


class SyntheticImages(ImageSource):
    """Images whose class is their smooth mean pattern, plus pixel noise; a small model learns them quickly.

    Each class has a pattern drawn uniformly in ``[-0.3, 0.3]`` on a 4x4 grid and upsampled (bilinear) to
    ``input_size``; an image is ``0.5 + pattern + noise_std * N(0, 1)`` clamped to [0, 1] and stored as
    uint8. Labels are balanced. Everything follows from ``seed``: the patterns and the training and test
    images. ``mean`` and ``std`` are those of the unclamped distribution. Augmentation crops with
    ``input_size // 8`` pixels of padding and mirrors.

    Args:
        num_samples: Images in the training split (before the validation hold-out).
        num_test_samples: Images in the test split.
        num_classes: Number of classes.
        in_channels: Channels per image.
        input_size: Side of the square images.
        noise_std: Standard deviation of the pixel noise.
        seed: Seed of the patterns and the images.
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
    ) -> None:
        check_int("num_samples", num_samples, 1)
        check_int("num_test_samples", num_test_samples, 1)
        check_int("num_classes", num_classes, 2)
        check_int("in_channels", in_channels, 1)
        check_int("input_size", input_size, 1)
        check_int("seed", seed, 0)
        if not noise_std >= 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}.")
        self.num_samples = num_samples
        self.num_test_samples = num_test_samples
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.input_size = input_size
        self.noise_std = noise_std
        self.seed = seed
        self.patterns = self._class_patterns()
        self.mean = tuple((0.5 + self.patterns.mean(dim=(0, 2, 3))).tolist())
        variance = self.patterns.var(dim=(0, 2, 3), unbiased=False) + noise_std**2
        self.std = tuple(variance.sqrt().tolist())

    def _class_patterns(self) -> Tensor:
        shape = (self.num_classes, self.in_channels, PATTERN_GRID, PATTERN_GRID)
        coarse = torch.rand(shape, generator=seeded_generator(self.seed, 0)) * 2 - 1
        size = (self.input_size, self.input_size)
        return PATTERN_AMPLITUDE * F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)

    def load(self, split: Split) -> Batch:
        count = self.num_samples if split == "train" else self.num_test_samples
        generator = seeded_generator(self.seed, SPLIT_KEYS[split])
        labels = (torch.arange(count) % self.num_classes)[torch.randperm(count, generator=generator)]
        noise = torch.randn((count, *self.patterns.shape[1:]), generator=generator) * self.noise_std
        images = (0.5 + self.patterns[labels] + noise).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return images, labels
