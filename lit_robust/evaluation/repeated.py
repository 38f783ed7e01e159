"""The spread of an evaluation over repeats: for randomised defenses, whose numbers change from run to run.

Example (a randomised defense, majority vote of 5 draws, APGD-CE under EOT)::

    spread = evaluate_repeatedly(
        lambda seed: evaluate_robustness(model, x, y, {"apgd": EOT(APGD(0.1), 20)}, [0.1], seed=seed,
                                         randomized=True),
        repeats=5,
    )
    print(spread)  # mean and standard deviation of every number; spread.reports holds the runs
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import torch

from lit_robust.evaluation.report import RobustnessReport
from lit_robust.evaluation.results import MEASURES, Summary


@dataclass
class RepeatedEvaluation:
    """Reports of the same evaluation repeated with different seeds.

    Attributes:
        reports: one report per repeat.
    """

    reports: list[RobustnessReport]

    @cached_property
    def mean(self) -> Summary:
        """Every summary number averaged over the repeats."""
        return {c: sum(values) / len(values) for c, values in self._values().items()}

    @cached_property
    def std(self) -> Summary:
        """Every summary number's sample standard deviation over the repeats (NaN for a single one)."""
        out: Summary = {}
        for column, values in self._values().items():
            mean = sum(values) / len(values)
            square = sum((v - mean) ** 2 for v in values)
            out[column] = math.sqrt(square / (len(values) - 1)) if len(values) > 1 else math.nan
        return out

    def _values(self) -> dict:
        columns = self.reports[0].summary
        return {column: [report.summary[column] for report in self.reports] for column in columns}

    def __str__(self) -> str:
        lines = [f"RepeatedEvaluation: {len(self.reports)} repeats, mean +- standard deviation"]
        for column, mean in self.mean.items():
            scale, unit = (100, " %") if MEASURES[column.kind].percent else (1, "")
            lines.append(f"{column.name}: {scale * mean:.2f} +- {scale * self.std[column]:.2f}{unit}")
        return "\n".join(lines)


def evaluate_repeatedly(
    evaluate: Callable[[int], RobustnessReport], repeats: int = 5, seed: int = 0
) -> RepeatedEvaluation:
    """Runs ``evaluate(s)`` for ``s = seed, seed + 1, ...`` and gives the spread of its numbers.

    Before each repeat, torch's global generators (which a randomised model draws from) are seeded with
    ``s`` inside a :func:`torch.random.fork_rng`, so each repeat has fresh draws, the whole is reproducible
    and the caller's random state is left unchanged. Pass ``s`` on as ``evaluate_robustness``'s ``seed`` so
    that the attacks' own randomness changes too.

    Args:
        evaluate: one evaluation, given the repeat's seed.
        repeats: number of evaluations (at least 2 for a standard deviation).
        seed: seed of the first repeat.

    Raises:
        ValueError: if ``repeats < 1``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}.")
    reports = []
    for offset in range(repeats):
        with torch.random.fork_rng():
            torch.manual_seed(seed + offset)
            reports.append(evaluate(seed + offset))
    return RepeatedEvaluation(reports)
