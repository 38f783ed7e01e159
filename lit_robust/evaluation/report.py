"""`RobustnessReport`: what ``evaluate_robustness`` returns, per point and summarised."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from matplotlib.figure import Figure

from lit_robust.evaluation.plan import EvaluationPlan
from lit_robust.evaluation.plots import accuracy_figure
from lit_robust.evaluation.results import Column, PointResults, Summary
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
        out: Summary = {}
        for results in (self.white_box, self.transfer):
            out.update(summarize(results, self.plan) if results is not None else {})
        return out

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
        """Numbers by logging name (``robust_acc/pgd/eps=0.1``...), plus the run's settings and flags."""
        return {
            "num_samples": self.num_samples,
            "norm": self.plan.norm,
            "grid": list(self.plan.grid),
            "seconds": self.seconds,
            "metrics": {column.name: value for column, value in self.summary.items()},
            "flags": [{"check": f.check, "message": f.message} for f in self.flags],
        }

    def __str__(self) -> str:
        summary = self.summary
        clean = summary[Column("clean_acc")]
        lines = [
            f"RobustnessReport: {self.num_samples} points, clean accuracy {clean:.2%}, "
            f"grid in {self.plan.norm}, {self.seconds:.1f} s",
            *accuracy_table(summary),
        ]
        lines += [f"rho/{c.attack}: {v:.4f}" for c, v in summary.items() if c.kind == "rho"]
        lines += [f"sanity flag {flag}" for flag in self.flags]
        return "\n".join(lines)
