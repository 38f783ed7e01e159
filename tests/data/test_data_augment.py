"""Vectorised batch augmentation: random crop with zero padding and random horizontal flip."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lit_robust.data import crop_and_flip, random_crop, random_hflip


def windows(image: torch.Tensor, padding: int) -> list[torch.Tensor]:
    """Every crop of the zero-padded image at the size of the original."""
    _, h, w = image.shape
    padded = F.pad(image, (padding,) * 4)
    span = range(2 * padding + 1)
    return [padded[:, dy : dy + h, dx : dx + w] for dy in span for dx in span]


@pytest.mark.parametrize("shape", [(16, 3, 8, 8), (9, 1, 7, 5)])
def test_random_crop_returns_a_window_of_the_padded_image(shape):
    images = torch.rand(shape) + 0.1  # strictly positive, so padding shows as zeros
    out = random_crop(images, padding=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert out.min() >= 0 and out.max() <= 1.1
    for image, crop in zip(images, out, strict=True):
        assert any(torch.equal(crop, window) for window in windows(image, 2))
    assert not torch.equal(out, images)
    assert (out == 0).any()


def test_random_crop_is_reproducible_with_a_generator_and_identity_without_padding():
    images = torch.rand(8, 3, 6, 6)
    first = random_crop(images, 3, torch.Generator().manual_seed(5))
    second = random_crop(images, 3, torch.Generator().manual_seed(5))
    assert torch.equal(first, second)
    assert torch.equal(random_crop(images, 0), images)


def test_random_hflip_mirrors_some_images_and_keeps_the_others():
    images = torch.rand(64, 2, 5, 5)
    out = random_hflip(images, generator=torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, images, strict=True)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, images, strict=True)])
    assert (flipped | kept).all()
    assert flipped.any() and kept.any()
    assert torch.equal(random_hflip(images, p=1.0), images.flip(-1))
    assert torch.equal(random_hflip(images, p=0.0), images)


def test_crop_and_flip_without_hflip_only_crops():
    images = torch.rand(16, 1, 8, 8)
    cropped = crop_and_flip(images, 2, hflip=False, generator=torch.Generator().manual_seed(3))
    assert torch.equal(cropped, random_crop(images, 2, torch.Generator().manual_seed(3)))
    both = crop_and_flip(images, 2, hflip=True, generator=torch.Generator().manual_seed(3))
    assert both.shape == images.shape and not torch.equal(both, cropped)
