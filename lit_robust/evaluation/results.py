"""What an evaluation produces: the columns of a plan, what each kind of column holds, and per-point results.

This file is the one place that declares the numbers: :data:`MEASURES` says, for each kind of column, how
its values are summarised (the torchmetrics class), combined over blocks, shown and logged, and
:func:`plan_columns` says which columns a plan produces. The engine fills exactly those columns (it checks),
and the summary, report, logging and plots read them from here. A new metric is a :class:`Measure` entry and
its columns below, plus the engine code that fills it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import torch
from torch import Tensor
from torchmetrics import Metric, SumMetric

from lit_robust.evaluation.plan import WORST, Eps, EvaluationPlan, format_eps
from lit_robust.evaluation.records import PointRecords
from lit_robust.metrics import Rho, RobustAccuracy

Kind = Literal["clean_acc", "robust_acc", "transfer_acc", "rho", "forward_passes", "backward_passes"]


class Column(NamedTuple):
    """One summary number: ``kind`` of ``attack`` at ``eps``.

    ``name`` is its logging name without the stage: ``clean_acc``, ``robust_acc/pgd/eps=0.1``,
    ``robust_acc/worst/eps=0.1``, ``transfer_acc/pgd/eps=0.1``, ``rho/deepfool``, ``robust_acc/fixed``
    (an attack without ``eps``), ``robust_acc/deepfool/eps=inf`` (the points a minimum-norm attack failed on),
    ``forward_passes`` (the evaluation's total), ``backward_passes/pgd`` (one attack's).
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


@dataclass(frozen=True)
class Measure:
    """What the columns of one kind hold.

    Attributes:
        metric: the torchmetrics class that summarises the per-block values (DDP sums are exact).
        per_point: values are per-point tensors (concatenated over blocks); else one count per block (summed
            over blocks, and over the white-box and transfer parts of one evaluation).
        percent: shown as a percentage.
        curve: an accuracy against epsilon: a row of the report's table and a curve of the figure.
        grouped: logged as ``{stage}/{group}/{name}`` (``robust_eval/clean_acc``), not ``{stage}/{name}``.
        section: the key of :meth:`RobustnessReport.to_dict` that holds it.
    """

    metric: type[Metric]
    per_point: bool = True
    percent: bool = False
    curve: bool = False
    grouped: bool = False
    section: str = "metrics"


class PassCount(SumMetric):
    """A sum of counts in float64 (exact up to 2**53; float32 would round beyond 2**24 images)."""

    def __init__(self, sync_on_compute: bool = True) -> None:
        super().__init__(sync_on_compute=sync_on_compute)
        self.set_dtype(torch.float64)


COUNT = Measure(PassCount, per_point=False, grouped=True, section="cost")
MEASURES: dict[str, Measure] = {
    "clean_acc": Measure(RobustAccuracy, percent=True, grouped=True),
    "robust_acc": Measure(RobustAccuracy, percent=True, curve=True),
    "transfer_acc": Measure(RobustAccuracy, percent=True, curve=True),
    "rho": Measure(Rho),
    "forward_passes": COUNT,
    "backward_passes": COUNT,
}
COST_KINDS: tuple[Kind, ...] = ("forward_passes", "backward_passes")
"""Images forwarded through the model and images back-propagated through it (see
:mod:`lit_robust.evaluation.counting`)."""

Summary = dict[Column, float]
"""Summary numbers by column, in the order of the plan."""


def plan_columns(plan: EvaluationPlan, transfer: bool) -> list[Column]:
    """Every column of the results of ``plan``, in order, whatever the points (the engine fills them all)."""
    kind: Kind = "transfer_acc" if transfer else "robust_acc"
    columns = [Column("clean_acc")]
    for planned in (p for p in plan.attacks if p not in plan.cascade):
        extra = (math.inf,) if planned.kind == "minimum_norm" else ()
        columns += [Column(kind, planned.name, eps) for eps in (*planned.epsilons, *extra)]
    worst = [p for p in plan.attacks if p.in_worst]
    columns += [Column(kind, WORST, e) for e in plan.grid if any(e in p.epsilons for p in worst)]
    columns += [] if transfer else [Column("rho", p.name) for p in plan.attacks if p.kind == "minimum_norm"]
    for cost in COST_KINDS:
        columns += [Column(cost), *(Column(cost, p.name) for p in plan.attacks)]
    return columns


def merge_summaries(summaries: Iterable[Summary]) -> Summary:
    """One evaluation's summary from its parts (white-box and transfer): counts add up, the rest is shared."""
    out: Summary = {}
    for summary in summaries:
        for column, value in summary.items():
            counted = not MEASURES[column.kind].per_point and column in out
            out[column] = out[column] + value if counted else value
    return out


@dataclass
class PointResults:
    """Per-point results of one set of attacks on the same points (white-box, or transfer from a source).

    Attributes:
        transfer: whether the adversarial examples were crafted on another (source) model.
        values: every column of :func:`plan_columns` -> its per-point values (boolean masks, ``True`` where
            the point is still correctly classified; rho values) or, for counts, a 0-dim tensor.
        distance: minimum-norm attacks: the perturbation's norm in the attack's norm; 0 where the clean
            point is misclassified, ``inf`` where the attack failed.
        records: per point, the smallest epsilon that broke it, the attack that did, and its margin.
    """

    transfer: bool
    values: dict[Column, Tensor] = field(default_factory=dict)
    distance: dict[str, Tensor] = field(default_factory=dict)
    records: PointRecords | None = None

    @property
    def kind(self) -> Kind:
        return "transfer_acc" if self.transfer else "robust_acc"

    @property
    def clean(self) -> Tensor:
        """``True`` where the model classifies the clean point correctly, shape ``(n,)``."""
        return self.values[Column("clean_acc")]

    @property
    def robust(self) -> dict[str, dict[Eps, Tensor]]:
        """Attack name -> epsilon -> ``True`` where the point is still correctly classified."""
        out: dict[str, dict[Eps, Tensor]] = {}
        for column, mask in self.values.items():
            if column.kind == self.kind and column.attack != WORST:
                out.setdefault(column.attack, {})[column.eps] = mask
        return out

    @property
    def worst(self) -> dict[float, Tensor]:
        """Grid epsilon -> ``True`` where every attack of the grid's norm failed."""
        return {c.eps: v for c, v in self.values.items() if c.kind == self.kind and c.attack == WORST}

    @property
    def rho(self) -> dict[str, Tensor]:
        """Minimum-norm attacks (white-box only): ``||x_adv - x||_2 / ||x||_2``; 0 where misclassified, NaN
        where the attack failed (see :class:`lit_robust.metrics.Rho`)."""
        return {c.attack: v for c, v in self.values.items() if c.kind == "rho"}

    def check(self, plan: EvaluationPlan) -> None:
        """Raises a ``RuntimeError`` unless the columns filled are exactly those ``plan`` declares."""
        declared, filled = plan_columns(plan, self.transfer), list(self.values)
        if set(declared) != set(filled):
            missing = [c.name for c in declared if c not in self.values]
            extra = [c.name for c in filled if c not in declared]
            raise RuntimeError(
                f"evaluation filled columns {extra} it does not declare, and misses {missing}."
            )

    @classmethod
    def cat(cls, parts: list[PointResults]) -> PointResults:
        """Concatenates the results of consecutive blocks of points (and adds up their counts)."""
        first = parts[0]
        values = {
            column: torch.cat(v) if MEASURES[column.kind].per_point else torch.stack(v).sum()
            for column, v in ((c, [p.values[c] for p in parts]) for c in first.values)
        }
        records = [p.records for p in parts if p.records is not None]
        return cls(
            transfer=first.transfer,
            values=values,
            distance={key: torch.cat([p.distance[key] for p in parts]) for key in first.distance},
            records=PointRecords.cat(records) if records else None,
        )
