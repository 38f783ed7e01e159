"""Summary numbers from per-point results, through torchmetrics so that DDP sums are exact."""

from __future__ import annotations

import torch
from torchmetrics import Metric

from lit_robust.evaluation.plan import EvaluationPlan
from lit_robust.evaluation.results import MEASURES, Column, PointResults, Summary, plan_columns


class SummaryAccumulator:
    """One metric per column of a plan (the class its :data:`~lit_robust.evaluation.results.MEASURES` entry
    names), updated block by block.

    The metrics exist from the start for every column of the plan, so every process synchronises the same
    states in the same order in :meth:`compute`, including processes that evaluated no block.

    Args:
        plan: the evaluation plan.
        transfer: whether the results are transfer results.
        sync: sum the states over processes in :meth:`compute` (when torch.distributed is initialised).
        device: device of the metric states (the results' device).
    """

    def __init__(
        self, plan: EvaluationPlan, transfer: bool, sync: bool = True, device: torch.device | None = None
    ) -> None:
        self.metrics: dict[Column, Metric] = {
            column: MEASURES[column.kind].metric(sync_on_compute=sync).to(device)
            for column in plan_columns(plan, transfer)
        }

    def update(self, results: PointResults) -> None:
        """Adds one block's results."""
        for column, values in results.values.items():
            self.metrics[column].update(values)

    def compute(self) -> Summary:
        """Every column's value (synchronised across processes when ``sync``)."""
        return {column: metric.compute().item() for column, metric in self.metrics.items()}


def summarize(results: PointResults, plan: EvaluationPlan) -> Summary:
    """The summary numbers of ``results`` (this process only)."""
    accumulator = SummaryAccumulator(plan, results.transfer, sync=False, device=results.clean.device)
    accumulator.update(results)
    return accumulator.compute()
