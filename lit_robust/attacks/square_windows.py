"""Square windows and the L2 Square attack's patterns (Andriushchenko et al. 2020), batched per image."""

from __future__ import annotations

import torch
from torch import Tensor

QUERY_MARKS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def square_fraction(iteration: int, queries: int, p_init: float) -> float:
    """The fraction ``p`` of pixels a square covers at ``iteration``: ``p_init``, halved after each of the
    iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of a 10,000-query budget, with the
    iteration rescaled to ``queries`` (the paper's schedule, as rescaled in the authors' code)."""
    scaled = int(iteration / queries * 10000)
    return p_init / 2 ** sum(scaled > mark for mark in QUERY_MARKS)


def random_corners(batch: int, size: int, height: int, width: int, generator: torch.Generator | None, device):
    """Top-left corners ``(rows, cols)`` of one ``size`` x ``size`` window per image, uniform over the
    positions that fit."""
    rows = torch.randint(height - size + 1, (batch,), generator=generator, device=device)
    cols = torch.randint(width - size + 1, (batch,), generator=generator, device=device)
    return rows, cols


def window_mask(rows: Tensor, cols: Tensor, size: int, height: int, width: int) -> Tensor:
    """Boolean mask ``(batch, 1, height, width)`` of each image's window."""
    r = torch.arange(height, device=rows.device)
    c = torch.arange(width, device=cols.device)
    in_rows = (r >= rows[:, None]) & (r < rows[:, None] + size)
    in_cols = (c >= cols[:, None]) & (c < cols[:, None] + size)
    return (in_rows[:, :, None] & in_cols[:, None, :]).unsqueeze(1)


def window_index(rows: Tensor, cols: Tensor, size: int) -> tuple[Tensor, Tensor, Tensor]:
    """Advanced indices that read or write each image's window of an image tensor permuted to
    ``(batch, height, width, channels)``."""
    offsets = torch.arange(size, device=rows.device)
    batch = torch.arange(rows.shape[0], device=rows.device)[:, None, None]
    return batch, (rows[:, None] + offsets)[:, :, None], (cols[:, None] + offsets)[:, None, :]


def _rectangles(height: int, width: int, device, dtype) -> Tensor:
    """Concentric rectangles around the centre, the ``k``-th (``k = 0, 1, ...``) of weight
    ``1 / (k + 1)^2``, summed and scaled to unit L2 norm."""
    if height == 0:
        return torch.zeros(0, width, device=device, dtype=dtype)
    rings = max(height // 2, width // 2) + 1
    i = torch.arange(height, device=device)[:, None]
    j = torch.arange(width, device=device)[None, :]
    distance = torch.maximum((i - height // 2).abs(), (j - width // 2).abs())
    weights = 1.0 / torch.arange(1, rings + 1, device=device, dtype=dtype).square()
    tail = weights.flip(0).cumsum(0).flip(0)  # tail[d] = sum of the weights of rings d, d + 1, ...
    pattern = tail[distance]
    return pattern / pattern.norm()


def l2_pattern(size: int, device, dtype) -> Tensor:
    """The L2 Square update ``(size, size)``: rectangles of one sign on the top half and of the other on the
    bottom half, unit L2 norm."""
    pattern = torch.cat(
        [_rectangles(size // 2, size, device, dtype), -_rectangles(size - size // 2, size, device, dtype)]
    )
    return pattern / pattern.norm()


def l2_patterns(batch: int, size: int, generator: torch.Generator | None, device, dtype) -> Tensor:
    """One :func:`l2_pattern` per image, ``(batch, 1, size, size)``, transposed for half of them at random."""
    pattern = l2_pattern(size, device, dtype)
    flip = torch.rand(batch, generator=generator, device=device) < 0.5
    return torch.where(flip[:, None, None, None], pattern.t(), pattern)
