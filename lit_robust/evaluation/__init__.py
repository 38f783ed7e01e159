"""Robustness evaluation: clean, robust and worst-case accuracy over attacks and epsilons; rho; sanity."""

from lit_robust.evaluation.engine import BlockEvaluator
from lit_robust.evaluation.evaluate import evaluate_robustness
from lit_robust.evaluation.plan import EvaluationPlan, PlannedAttack, make_plan
from lit_robust.evaluation.report import RobustnessReport
from lit_robust.evaluation.results import Column, PointResults, Summary
from lit_robust.evaluation.sanity import SanityCheckWarning, SanityFlag, run_sanity_checks

__all__ = [
    "BlockEvaluator",
    "Column",
    "EvaluationPlan",
    "PlannedAttack",
    "PointResults",
    "RobustnessReport",
    "SanityCheckWarning",
    "SanityFlag",
    "Summary",
    "evaluate_robustness",
    "make_plan",
    "run_sanity_checks",
]
