"""Sanity checks of an evaluation (Carlini et al. 2019, "On Evaluating Adversarial Robustness"; Athalye et
al. 2018): signs that the attacks, not the model, are weak (gradient masking, a broken attack setup).

Each check reads summary numbers only, so the callbacks run it on the numbers summed over all processes.
A flag is a hint to investigate, not a proof: see each check's notes for when it can fire on a sound
evaluation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import product

from lit_robust.evaluation.plan import UNBOUNDED_LINF, WORST, EvaluationPlan, PlannedAttack, format_eps
from lit_robust.evaluation.results import Column, Summary

ITERATIVE_WEAKER = "iterative_weaker_than_one_step"
NO_DECREASE = "accuracy_not_decreasing"
UNBOUNDED_NOT_ZERO = "unbounded_accuracy_not_zero"
TRANSFER_STRONGER = "transfer_stronger_than_white_box"
KINDS = ("robust_acc", "transfer_acc")


class SanityCheckWarning(UserWarning):
    """Warned for every sanity flag, so that it can be filtered or turned into an error precisely."""


@dataclass(frozen=True)
class SanityFlag:
    """A failed sanity check.

    Attributes:
        check: the check's name (one of this module's constants).
        message: what was seen, with the numbers.
    """

    check: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


def run_sanity_checks(summary: Summary, plan: EvaluationPlan, tolerance: float) -> list[SanityFlag]:
    """All checks on ``summary``; ``tolerance`` is the accuracy difference (a fraction) that counts.

    - :data:`ITERATIVE_WEAKER`: an iterative bounded attack (``steps > 1``) leaves a higher robust accuracy
      than a one-step one (``steps == 1``) of the same norm and targeting at the same epsilon (PGD/BIM/MIM
      against FGSM, ILL against LL). Include FGSM in the attacks for this check to run.
    - :data:`NO_DECREASE`: a swept attack's accuracy at the largest epsilon of the user's grid (the added
      unbounded epsilon left out) is not below the one at the smallest, while that is above ``tolerance``.
      The epsilon carry-over makes every curve non-increasing by construction, so this looks for a flat
      curve; it can fire on a very robust model evaluated over a narrow grid.
    - :data:`UNBOUNDED_NOT_ZERO`: the worst-case accuracy at L-inf ``eps = 1`` (added to L-inf sweeps when
      the checks are on: that ball contains every image) is above ``tolerance``.
    - :data:`TRANSFER_STRONGER`: transfer examples crafted on another model leave a lower accuracy than the
      same white-box attack at the same epsilon.
    """
    return [
        *_iterative_weaker(summary, plan, tolerance),
        *_no_decrease(summary, plan, tolerance),
        *_unbounded_not_zero(summary, plan, tolerance),
        *_transfer_stronger(summary, tolerance),
    ]


def warn_flags(flags: list[SanityFlag]) -> None:
    """Warns a :class:`SanityCheckWarning` naming the check for each flag."""
    for flag in flags:
        warnings.warn(f"lit_robust sanity check {flag.check!r} failed: {flag.message}", SanityCheckWarning, 3)


def _iterative_weaker(summary: Summary, plan: EvaluationPlan, tolerance: float) -> list[SanityFlag]:
    flags = []
    pairs = [
        (iterative, one_step)
        for iterative in plan.attacks
        if (_steps(iterative) or 0) > 1
        for one_step in plan.attacks
        if _steps(one_step) == 1 and _same_threat(iterative, one_step)
    ]
    for kind, (iterative, one_step) in product(KINDS, pairs):
        for eps in iterative.epsilons:
            a = summary.get(Column(kind, iterative.name, eps))
            b = summary.get(Column(kind, one_step.name, eps))
            if a is not None and b is not None and a > b + tolerance:
                message = (
                    f"{kind} of {iterative.name!r} ({_steps(iterative)} steps) is {a:.2%} at eps="
                    f"{format_eps(eps)}, above one-step {one_step.name!r} ({b:.2%}): the iterative attack "
                    "is misconfigured or the gradients are masked."
                )
                flags.append(SanityFlag(ITERATIVE_WEAKER, message))
    return flags


def _no_decrease(summary: Summary, plan: EvaluationPlan, tolerance: float) -> list[SanityFlag]:
    flags = []
    for kind, planned in product(KINDS, [p for p in plan.attacks if p.kind == "bounded"]):
        grid = [e for e in planned.epsilons if not (plan.added_unbounded and e == UNBOUNDED_LINF)]
        values = [summary.get(Column(kind, planned.name, e)) for e in grid]
        if len(grid) < 2 or None in values:
            continue
        first, last = values[0], values[-1]
        if first > tolerance and last >= first - tolerance:
            message = (
                f"{kind} of {planned.name!r} does not fall as epsilon grows: {first:.2%} at eps="
                f"{format_eps(grid[0])}, {last:.2%} at eps={format_eps(grid[-1])}."
            )
            flags.append(SanityFlag(NO_DECREASE, message))
    return flags


def _unbounded_not_zero(summary: Summary, plan: EvaluationPlan, tolerance: float) -> list[SanityFlag]:
    flags = []
    for kind in KINDS if plan.added_unbounded else ():
        value = summary.get(Column(kind, WORST, UNBOUNDED_LINF))
        if value is not None and value > tolerance:
            message = (
                f"worst-case {kind} at L-inf eps={format_eps(UNBOUNDED_LINF)} (a ball holding every "
                f"image) is {value:.2%}, not 0: the attacks are too weak (step size, steps) or the "
                "gradients are masked."
            )
            flags.append(SanityFlag(UNBOUNDED_NOT_ZERO, message))
    return flags


def _transfer_stronger(summary: Summary, tolerance: float) -> list[SanityFlag]:
    flags = []
    for column, transfer in summary.items():
        white_box = summary.get(column._replace(kind="robust_acc"))
        if column.kind != "transfer_acc" or column.attack == WORST or white_box is None:
            continue
        if transfer < white_box - tolerance:
            message = (
                f"transfer attack {column.attack!r} at eps={format_eps(column.eps)} leaves {transfer:.2%}, "
                f"below the white-box attack's {white_box:.2%}: the white-box gradients are likely masked."
            )
            flags.append(SanityFlag(TRANSFER_STRONGER, message))
    return flags


def _steps(planned: PlannedAttack) -> int | None:
    """Steps of a bounded attack (minimum-norm attacks have steps too, but no one-step version)."""
    steps = getattr(planned.attack, "steps", None)
    return steps if isinstance(steps, int) and planned.kind == "bounded" else None


def _same_threat(a: PlannedAttack, b: PlannedAttack) -> bool:
    return a.norm == b.norm and getattr(a.attack, "targeted", False) == getattr(b.attack, "targeted", False)
