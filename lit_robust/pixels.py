"""Pixel conventions: uint8 images in storage, float images in [0, 1] everywhere else."""

from __future__ import annotations

from torch import Tensor


def to_unit_range(images: Tensor) -> Tensor:
    """uint8 images (0-255) as float32 in [0, 1] (a new tensor, on the same device); float images as they
    are (already in [0, 1] by lit_robust's convention)."""
    return images if images.is_floating_point() else images.float().div_(255)
