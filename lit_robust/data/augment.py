"""Batch augmentations on the device, vectorised over the batch (no per-sample loop, no PIL).

Each function takes a float batch ``(N, C, H, W)`` and returns a new batch of the same shape, dtype and
device. Randomness comes from ``generator`` when given (it must live on the batch's device), otherwise from
torch's global generator for that device (seeded by ``lightning.seed_everything``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def random_crop(images: Tensor, padding: int, generator: torch.Generator | None = None) -> Tensor:
    """Pads each image with ``padding`` zeros on every side and crops it back at a random offset."""
    if padding == 0:
        return images
    n, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (2, n, 1, 1), generator=generator, device=device)
    rows = offsets[0] + torch.arange(h, device=device)[:, None]  # (n, h, 1)
    cols = offsets[1] + torch.arange(w, device=device)  # (n, 1, w)
    # One gather over the flattened padded images: several times faster than 4-way advanced indexing.
    index = (rows * (w + 2 * padding) + cols).view(n, 1, h * w).expand(n, c, h * w)
    return padded.flatten(2).gather(2, index).view(n, c, h, w)


def random_hflip(images: Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Mirrors each image left-right with probability ``p``."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < p
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def crop_and_flip(
    images: Tensor, padding: int, hflip: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """The standard augmentation: :func:`random_crop` and, when ``hflip``, :func:`random_hflip`."""
    images = random_crop(images, padding, generator)
    return random_hflip(images, generator=generator) if hflip else images
