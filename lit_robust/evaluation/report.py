"""`RobustnessReport`: what ``evaluate_robustness`` returns, per point and summarised."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from matplotlib.figure import Figure

from lit_robust.evaluation.plan import EvaluationPlan
from lit_robust.evaluation.plots import accuracy_figure
from lit_robust.evaluation.records import PointRecords
from lit_robust.evaluation.results import COST_KINDS, MEASURES, Column, PointResults, Summary, merge_summaries
from lit_robust.evaluation.sanity import SanityFlag
from lit_robust.evaluation.summary import summarize
from lit_robust.evaluation.table import accuracy_table


@dataclass
class RobustnessReport:
    """Results of one evaluation.

    Attributes:
        plan: the attacks and epsilons that were run (``plan.norm``, ``plan.grid``).
        white_box: per-point white-box results (``None`` when only transfer attacks were run).
        transfer: per-point results of examples crafted on the source model, if one was given.
        flags: failed sanity checks (empty when they were off or all passed).
        seconds: wall time of the evaluation.
    """

    plan: EvaluationPlan
    white_box: PointResults | None
    transfer: PointResults | None = None
    flags: list[SanityFlag] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def num_samples(self) -> int:
        results = self.white_box or self.transfer
        return 0 if results is None else len(results.clean)

    @cached_property
    def summary(self) -> Summary:
        """Every summary number by :class:`Column` (clean and robust accuracies, worst case, rho)."""
        parts = (self.white_box, self.transfer)
        return merge_summaries(summarize(results, self.plan) for results in parts if results is not None)

    @property
    def records(self) -> PointRecords | None:
        """Per-point records (where each point broke, by which attack, its margin) of the white-box results,
        else of the transfer results; save them with ``report.records.save(path)``."""
        results = self.white_box or self.transfer
        return None if results is None else results.records

    def passes(self, attack: str = "") -> tuple[int, int]:
        """Images forwarded and back-propagated by ``attack`` (default: the whole evaluation)."""
        forward, backward = (int(self.summary[Column(kind, attack)]) for kind in COST_KINDS)
        return forward, backward

    @property
    def clean_accuracy(self) -> float:
        return self.summary[Column("clean_acc")]

    def accuracy(self, attack: str, eps: float | None = None, transfer: bool = False) -> float:
        """Robust accuracy of ``attack`` (or ``"worst"``) at ``eps``, white-box or ``transfer``."""
        return self.summary[Column("transfer_acc" if transfer else "robust_acc", attack, eps)]

    def figure(self, transfer: bool = False) -> Figure:
        """Accuracy against epsilon of every attack and the worst case (white-box or ``transfer``)."""
        return accuracy_figure(self.summary, "transfer_acc" if transfer else "robust_acc", self.plan.norm)

    def to_dict(self) -> dict[str, Any]:
        """Numbers by logging name, in sections: ``metrics`` (``robust_acc/pgd/eps=0.1``...), ``cost``
        (``forward_passes``, ``backward_passes/pgd``...); plus the run's settings and flags."""
        out: dict[str, Any] = {
            "num_samples": self.num_samples,
            "norm": self.plan.norm,
            "grid": list(self.plan.grid),
            "seconds": self.seconds,
        }
        for column, value in self.summary.items():
            out.setdefault(MEASURES[column.kind].section, {})[column.name] = value
        return {**out, "flags": [{"check": f.check, "message": f.message} for f in self.flags]}

    def __str__(self) -> str:
        summary = self.summary
        clean = summary[Column("clean_acc")]
        lines = [
            f"RobustnessReport: {self.num_samples} points, clean accuracy {clean:.2%}, "
            f"grid in {self.plan.norm}, {self.seconds:.1f} s",
            *accuracy_table(summary),
        ]
        others = [c for c in summary if not MEASURES[c.kind].curve and c != Column("clean_acc")]
        lines += [f"{c.name}: {_format(c, summary[c])}" for c in others]
        lines += [f"sanity flag {flag}" for flag in self.flags]
        return "\n".join(lines)


def _format(column: Column, value: float) -> str:
    measure = MEASURES[column.kind]
    if measure.percent:
        return f"{value:.2%}"
    return f"{value:.4f}" if measure.per_point else f"{int(value):,}"
