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


def perturb_uint8(
    images: Tensor, eps: float, distribution: Distribution, generator: torch.Generator | None = None
) -> Tensor:
    """uint8 ``images`` plus noise in pixel units, clipped to [0, 255] and stored as uint8.

    The noise ``delta * 255`` is rounded towards zero (towards the clean value), so the stored perturbation
    is a whole number of 1/255 steps and never exceeds ``eps`` (the bound holds exactly, with no
    ``0.5/255`` of rounding slack); the price is that the stored perturbation is on average up to half a
    step smaller than the drawn one, and draws below 1/255 in magnitude leave the pixel unchanged.
    """
    steps = sample_noise(images, eps * 255, distribution, generator).trunc_().clamp_(-255, 255)
    return (images.to(torch.int16) + steps.to(torch.int16)).clamp_(0, 255).to(torch.uint8)
