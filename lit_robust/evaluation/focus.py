"""Spending an attack only where the margin stays small (after A3, Liu et al. 2022).

In a ``worst_case_only`` cascade, ``Closest(attack, fraction)`` attacks at most ``fraction`` times as many
points as the block has correctly classified ones (the points the cascade's first attack attacked): of the
points still robust, those whose smallest margin so far, over the clean image and every example the earlier
attacks produced for it, is lowest, the points nearest to breaking; all of them where fewer are left. The
attack's cost is thus a fixed share of the first attack's, whatever the model: far-from-the-boundary points
of a robust model, which an expensive extra attack almost never breaks, cost nothing, and on a model that
the first attack mostly breaks the few survivors are all attacked. Outside a cascade, or for a randomised
model (whose margins are not recorded), the wrapped attack runs on every point it is given.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, Norm


class Closest:
    """Runs ``attack`` on the still-robust points with the smallest margins, at most ``fraction`` times the
    number of correctly classified points.

    Radius, norm and early stopping are the wrapped attack's (``with_eps`` and the evaluation's early-stopping
    copy wrap a changed copy of it).

    Args:
        attack: the attack.
        fraction: points attacked at most, as a share of the correctly classified points, in (0, 1].
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


def closest_points(index: Tensor, margin: Tensor, fraction: float, correct: int) -> Tensor:
    """The ``ceil(fraction * correct)`` entries of ``index`` (all where there are fewer) with the smallest
    ``margin[index]``, in order of ``index``; all of them where the margins are not known (NaN)."""
    if margin[index].isnan().any():
        return index
    count = math.ceil(fraction * correct - 1e-9)
    chosen = margin[index].argsort()[:count]
    return index[chosen.sort().values]
