"""`Normalize`: the first layer of every defense's model, so that epsilons stay in pixel space."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class Normalize(nn.Module):
    """Maps [0, 1] pixels to ``(x - mean) / std`` per channel.

    ``mean`` and ``std`` are buffers of shape ``(1, C, 1, 1)``, so they follow the module across devices and
    are saved in checkpoints. A single value (a float or a one-element list) applies to every channel, and a
    one-element list broadcasts against a longer one.

    Args:
        mean: per-channel means, or one mean for every channel.
        std: per-channel standard deviations (all > 0), or one for every channel.

    Raises:
        ValueError: if ``mean`` and ``std`` have different lengths (neither being a single value), if either
            is empty, or if any ``std`` is not positive.
    """

    mean: Tensor
    std: Tensor

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        super().__init__()
        means = [float(mean)] if isinstance(mean, (int, float)) else [float(m) for m in mean]
        stds = [float(std)] if isinstance(std, (int, float)) else [float(s) for s in std]
        if not means or not stds:
            raise ValueError(f"Normalize needs at least one mean and one std, got mean={means}, std={stds}.")
        if len(means) != len(stds) and 1 not in (len(means), len(stds)):
            raise ValueError(
                f"Normalize got {len(means)} means and {len(stds)} stds; give one value per channel "
                f"(the same number of each) or a single value: mean={means}, std={stds}."
            )
        if any(s <= 0 for s in stds):
            raise ValueError(f"Normalize needs every std > 0, got std={stds}.")
        channels = max(len(means), len(stds))
        self.register_buffer("mean", torch.tensor(means).expand(channels).reshape(1, -1, 1, 1).clone())
        self.register_buffer("std", torch.tensor(stds).expand(channels).reshape(1, -1, 1, 1).clone())

    def forward(self, x: Tensor) -> Tensor:
        """Normalises a batch ``x`` of shape ``(N, C, H, W)``.

        Raises:
            ValueError: if ``x`` has a channel count other than the layer's (or 1 for a single-value layer).
        """
        channels = self.mean.shape[1]
        if channels != 1 and x.shape[1] != channels:
            raise ValueError(f"Normalize has {channels} channels but the input has {x.shape[1]}.")
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"
