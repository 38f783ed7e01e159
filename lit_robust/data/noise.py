"""Random pixel noise bounded by (or scaled by) ``eps``: the perturbations of the constant-perturbation data
and of the variable-perturbation and noise-injection defenses."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

Distribution = Literal["uniform", "normal"]
"""``"uniform"``: U(-eps, eps) per pixel; ``"normal"``: N(0, eps^2) per pixel (not bounded)."""


def check_noise(eps: float, distribution: str) -> None:
    """Raises a ValueError unless ``eps > 0`` and ``distribution`` is one of :data:`Distribution`."""
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}.")
    if distribution not in get_args(Distribution):
        raise ValueError(f"distribution must be one of {get_args(Distribution)}, got {distribution!r}.")


def sample_noise(
    like: Tensor, eps: float, distribution: Distribution, generator: torch.Generator | None = None
) -> Tensor:
    """Float noise of ``like``'s shape and device: U(-eps, eps) or N(0, eps^2) per element.

    Randomness comes from ``generator`` when given (on ``like``'s device), else from torch's global one.
    """
    shape, device = like.shape, like.device
    if distribution == "uniform":
        return torch.rand(shape, generator=generator, device=device).mul_(2).sub_(1).mul_(eps)
    return torch.randn(shape, generator=generator, device=device).mul_(eps)


def add_noise(
    images: Tensor, eps: float, distribution: Distribution, generator: torch.Generator | None = None
) -> Tensor:
    """``images`` (floats in [0, 1]) plus :func:`sample_noise`, clipped to [0, 1]."""
    return (images + sample_noise(images, eps, distribution, generator)).clamp_(0, 1)
