"""Spending an attack only where the margin stays small (after A3, Liu et al. 2022).

In a ``worst_case_only`` cascade, ``Closest(attack, fraction)`` attacks only the ``fraction`` of the points
still robust (in each block) whose smallest margin so far, over the clean image and every example the earlier
attacks produced for it, is lowest: the points nearest to breaking. Far-from-the-boundary points, which an
expensive extra attack almost never breaks, cost nothing. Outside a cascade, or for a randomised model (whose
margins are not recorded), the wrapped attack runs on every point it is given.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, Norm


class Closest:
    """Runs ``attack`` on the share ``fraction`` of the still-robust points with the smallest margins.

    Radius, norm and early stopping are the wrapped attack's (``with_eps`` and the evaluation's early-stopping
    copy wrap a changed copy of it).

    Args:
        attack: the attack.
        fraction: share of the still-robust points attacked, in (0, 1].
    """

    def __init__(self, attack: Attack, fraction: float) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
        self.attack = attack
        self.margin_fraction = fraction

    @property
    def eps(self) -> float | None:
        return self.attack.eps

    @property
    def norm(self) -> Norm:
        return self.attack.norm

    @property
    def early_stop(self) -> bool | None:
        return getattr(self.attack, "early_stop", None)

    @early_stop.setter
    def early_stop(self, value: bool) -> None:
        self.attack = copy.copy(self.attack)
        self.attack.early_stop = value

    def with_eps(self, eps: float) -> Closest:
        return Closest(self.attack.with_eps(eps), self.margin_fraction)

    def __call__(
        self, model: Model, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        return self.attack(model, x, y, generator=generator)

    def __repr__(self) -> str:
        return f"Closest({self.attack!r}, fraction={self.margin_fraction})"


def closest_points(index: Tensor, margin: Tensor, fraction: float) -> Tensor:
    """The ``ceil(fraction * len(index))`` entries of ``index`` with the smallest ``margin[index]``, in order
    of ``index``; all of them where the margins are not known (NaN)."""
    if margin[index].isnan().any():
        return index
    count = math.ceil(fraction * len(index) - 1e-9)
    chosen = margin[index].argsort()[:count]
    return index[chosen.sort().values]
