"""Per-point results of an evaluation, and the names (columns) of the summary numbers computed from them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from lit_robust.evaluation.plan import WORST, Eps, EvaluationPlan, format_eps

Kind = Literal["clean_acc", "robust_acc", "transfer_acc", "rho"]


class Column(NamedTuple):
    """One summary number: ``kind`` of ``attack`` at ``eps``.

    ``name`` is its logging name without the stage: ``clean_acc``, ``robust_acc/pgd/eps=0.1``,
    ``robust_acc/worst/eps=0.1``, ``transfer_acc/pgd/eps=0.1``, ``rho/deepfool``, ``robust_acc/fixed``
    (an attack without ``eps``), ``robust_acc/deepfool/eps=inf`` (the points a minimum-norm attack failed on).
    """

    kind: Kind
    attack: str = ""
    eps: Eps = None

    @property
    def name(self) -> str:
        parts = [self.kind, self.attack] if self.attack else [self.kind]
        if self.eps is not None:
            parts.append(f"eps={format_eps(self.eps)}")
        return "/".join(parts)


Summary = dict[Column, float]
"""Summary numbers by column, in the order of the plan."""


@dataclass
class PointResults:
    """Per-point results of one set of attacks on the same points (white-box, or transfer from a source).

    Attributes:
        transfer: whether the adversarial examples were crafted on another (source) model.
        clean: ``True`` where the model classifies the clean point correctly, shape ``(n,)``.
        robust: attack name -> epsilon -> ``True`` where the point is still correctly classified.
        worst: grid epsilon -> ``True`` where every attack of the grid's norm failed.
        distance: minimum-norm attacks: the perturbation's norm in the attack's norm; 0 where the clean
            point is misclassified, ``inf`` where the attack failed.
        rho: minimum-norm attacks (white-box only): ``||x_adv - x||_2 / ||x||_2``; 0 where misclassified, NaN
            where the attack failed (see :class:`lit_robust.metrics.Rho`).
    """

    transfer: bool
    clean: Tensor
    robust: dict[str, dict[Eps, Tensor]] = field(default_factory=dict)
    worst: dict[float, Tensor] = field(default_factory=dict)
    distance: dict[str, Tensor] = field(default_factory=dict)
    rho: dict[str, Tensor] = field(default_factory=dict)

    @property
    def kind(self) -> Kind:
        return "transfer_acc" if self.transfer else "robust_acc"

    def masks(self) -> dict[Column, Tensor]:
        """Every boolean mask by its column (the clean one, each attack's and the worst case's)."""
        out = {Column("clean_acc"): self.clean}
        for name, by_eps in self.robust.items():
            out.update({Column(self.kind, name, eps): mask for eps, mask in by_eps.items()})
        out.update({Column(self.kind, WORST, eps): mask for eps, mask in self.worst.items()})
        return out

    def rho_values(self) -> dict[Column, Tensor]:
        """Per-point rho values by column."""
        return {Column("rho", name): values for name, values in self.rho.items()}

    @classmethod
    def cat(cls, parts: list[PointResults]) -> PointResults:
        """Concatenates the results of consecutive blocks of points."""
        first = parts[0]
        return cls(
            transfer=first.transfer,
            clean=torch.cat([p.clean for p in parts]),
            robust={name: _cat([p.robust[name] for p in parts]) for name in first.robust},
            worst=_cat([p.worst for p in parts]),
            distance=_cat([p.distance for p in parts]),
            rho=_cat([p.rho for p in parts]),
        )


def _cat(dicts: list[dict]) -> dict:
    return {key: torch.cat([d[key] for d in dicts]) for key in dicts[0]}


def plan_columns(plan: EvaluationPlan, transfer: bool) -> list[Column]:
    """Every column of the results of ``plan``, in order, whatever the points (the engine fills them all)."""
    kind: Kind = "transfer_acc" if transfer else "robust_acc"
    columns = [Column("clean_acc")]
    for planned in (p for p in plan.attacks if p not in plan.cascade):
        extra = (math.inf,) if planned.kind == "minimum_norm" else ()
        columns += [Column(kind, planned.name, eps) for eps in (*planned.epsilons, *extra)]
    worst = [p for p in plan.attacks if p.in_worst]
    columns += [Column(kind, WORST, e) for e in plan.grid if any(e in p.epsilons for p in worst)]
    rho = [] if transfer else [Column("rho", p.name) for p in plan.attacks if p.kind == "minimum_norm"]
    return columns + rho
