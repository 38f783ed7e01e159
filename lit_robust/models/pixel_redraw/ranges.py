"""The colour ranges of Pixel Redrawn: k sub-ranges of [0, 1] that a pixel is redrawn inside."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

CODE_RANGES_K3 = ((0.0, 0.4), (0.3, 0.7), (0.6, 1.0))
"""The original code's hard-coded, overlapping ranges for k=3 (MNIST, Fashion-MNIST, CIFAR-10)."""


def colour_ranges(k: int = 3, ranges: Sequence[Sequence[float]] | None = None) -> Tensor:
    """The ``(k, 2)`` tensor of ``[low, high]`` colour ranges.

    Without ``ranges``: the original code's overlapping ranges for ``k=3`` (:data:`CODE_RANGES_K3`), and
    equal-width ranges ``[i/k, (i+1)/k]`` for any other ``k``. Given ``ranges`` are validated: each has
    ``0 <= low < high <= 1``, they are sorted by ``low``, and together they cover [0, 1] without gaps
    (overlaps are allowed), so every pixel value has at least one range that contains it.

    Args:
        k: number of ranges (at least 2); must equal ``len(ranges)`` when both are given.
        ranges: user-given ``[low, high]`` pairs, or ``None`` for the defaults.

    Raises:
        ValueError: for ``k < 2``, a ``k`` that disagrees with ``ranges``, or invalid ranges.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ValueError(f"k (the number of colour ranges) must be an integer >= 2, got {k!r}.")
    if ranges is None:
        if k == 3:
            return torch.tensor(CODE_RANGES_K3)
        edges = torch.linspace(0, 1, k + 1, dtype=torch.float64)
        return torch.stack([edges[:-1], edges[1:]], dim=1).float()
    if len(ranges) != k:
        raise ValueError(f"k={k} but {len(ranges)} ranges were given: set k to len(ranges).")
    _check_ranges(ranges)
    return torch.tensor([[float(low), float(high)] for low, high in ranges])


def _check_ranges(ranges: Sequence[Sequence[float]]) -> None:
    for i, pair in enumerate(ranges):
        if len(pair) != 2 or not 0.0 <= pair[0] < pair[1] <= 1.0:
            raise ValueError(f"ranges[{i}] must be [low, high] with 0 <= low < high <= 1, got {list(pair)}.")
    lows = [pair[0] for pair in ranges]
    if lows != sorted(lows):
        raise ValueError(f"ranges must be sorted by their low end, got lows {lows}.")
    covered = 0.0
    for i, (low, high) in enumerate(ranges):
        if low > covered:
            raise ValueError(f"ranges leave ({covered}, {low}) uncovered before ranges[{i}]: cover [0, 1].")
        covered = max(covered, high)
    if covered < 1.0:
        raise ValueError(f"ranges end at {covered}: they must cover [0, 1].")


def containing(values: Tensor, ranges: Tensor) -> Tensor:
    """Boolean ``(..., k)``: which ranges contain each value (both ends included)."""
    values = values.unsqueeze(-1)
    return (values >= ranges[:, 0]) & (values <= ranges[:, 1])
