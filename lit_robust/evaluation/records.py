"""Per-point records of an evaluation: where each point broke, which attack broke it, its final margin.

Exported with :meth:`PointRecords.save` as CSV (or JSON for a ``.json`` path), one row per evaluated point in
the order of evaluation::

    index,label,broken_eps,broken_by,margin
    0,7,0.0313725,apgd-t,-0.41
    1,2,inf,,1.87
    2,1,0,clean,-3.02

``broken_eps`` is the smallest epsilon of the grid at which some attack of the grid's norm fooled the model
(``inf``: never, the point is robust at every epsilon; ``0``: the clean point is misclassified, and
``broken_by`` is ``clean``); ``broken_by`` the attack that did it first (ties: the first in the order
given); ``margin`` the smallest margin (true-class logit minus the highest other logit) the model gave the
point over the clean image and every example judged for it: negative where it broke. For randomised models
(judged by majority vote) the margin is not defined and is NaN.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import Tensor

CLEAN = "clean"
"""``broken_by`` of a point the model misclassifies without attack."""


@dataclass
class PointRecords:
    """Records of ``n`` points (tensors of shape ``(n,)``).

    Attributes:
        names: the attacks' names; ``attack`` indexes them.
        label: the true labels.
        eps: smallest epsilon at which the point broke (``inf``: never, 0: misclassified when clean).
        attack: index into ``names`` of the attack that broke it first; -1 where none did.
        margin: smallest margin seen (float64; NaN for randomised models).
    """

    names: tuple[str, ...]
    label: Tensor
    eps: Tensor
    attack: Tensor
    margin: Tensor

    @classmethod
    def start(cls, names: tuple[str, ...], y: Tensor, clean: Tensor, margin: Tensor | None) -> PointRecords:
        """Records before any attack: misclassified points broke at epsilon 0 (``margin=None``: NaN)."""
        eps = torch.where(clean, math.inf, 0.0).double()
        attack = torch.full_like(y, -1, dtype=torch.long)
        margin = torch.full_like(eps, math.nan) if margin is None else margin.double()
        return cls(names, y.long(), eps, attack, margin)

    @classmethod
    def blank(cls, names: tuple[str, ...], count: int, device: torch.device) -> PointRecords:
        """All-zero records, to be filled block by block with :meth:`put` and summed over processes."""
        zeros = torch.zeros(count, dtype=torch.float64, device=device)
        return cls(names, zeros.long(), zeros.clone(), zeros.long(), zeros.clone())

    def update(self, index: Tensor, fooled: Tensor, eps: Tensor, attack: str, margin: Tensor | None) -> None:
        """``attack`` was judged on points ``index``: it fooled the model where ``fooled``, at epsilon ``eps``
        (per point), and left the margins ``margin`` (``None``: not defined)."""
        hit, eps = index[fooled], eps[fooled].double()
        earlier = eps < self.eps[hit]
        self.eps[hit[earlier]] = eps[earlier]
        self.attack[hit[earlier]] = self.names.index(attack)
        if margin is not None:
            self.margin[index] = torch.minimum(self.margin[index], margin.double())

    def put(self, start: int, part: PointRecords) -> None:
        """Copies the records of a block whose first point is ``start``."""
        for name in ("label", "eps", "attack", "margin"):
            getattr(self, name)[start : start + len(part.eps)] = getattr(part, name)

    def reduced(self, reduce: Callable[[Tensor], Tensor]) -> PointRecords:
        """Every tensor passed through ``reduce`` (a sum over processes of :meth:`blank` records)."""
        return replace(self, **{n: reduce(getattr(self, n)) for n in ("label", "eps", "attack", "margin")})

    @classmethod
    def cat(cls, parts: list[PointRecords]) -> PointRecords:
        """The records of consecutive blocks."""
        fields = {n: torch.cat([getattr(p, n) for p in parts]) for n in ("label", "eps", "attack", "margin")}
        return cls(parts[0].names, **fields)

    def rows(self) -> list[dict[str, object]]:
        """One dictionary per point, with the fields of the exported file."""
        return [
            {
                "index": index,
                "label": label,
                "broken_eps": eps,
                "broken_by": CLEAN if eps == 0 else (self.names[attack] if attack >= 0 else ""),
                "margin": margin,
            }
            for index, (label, eps, attack, margin) in enumerate(
                zip(*(t.tolist() for t in (self.label, self.eps, self.attack, self.margin)), strict=True)
            )
        ]

    def save(self, path: str | Path) -> Path:
        """Writes the records as CSV, or as a JSON list of rows when ``path`` ends in ``.json``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = self.rows()
        with path.open("w", newline="") as file:
            if path.suffix == ".json":
                json.dump(rows, file, indent=1)  # inf and NaN as JavaScript's Infinity and NaN
            else:
                writer = csv.DictWriter(file, ["index", "label", "broken_eps", "broken_by", "margin"])
                writer.writeheader()
                writer.writerows(rows)
        return path
