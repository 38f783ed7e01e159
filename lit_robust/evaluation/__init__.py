"""Robustness evaluation: clean, robust and worst-case accuracy over attacks and epsilons; rho; sanity; pass
counts; per-point records; AutoAttack presets; the spread of randomised defenses over repeats."""

from lit_robust.evaluation.engine import BlockEvaluator
from lit_robust.evaluation.evaluate import evaluate_robustness
from lit_robust.evaluation.focus import Closest
from lit_robust.evaluation.pixel_redrawn_cases import (
    CASE_NAMES,
    Case,
    RedrawnStart,
    case_accuracy,
    evaluate_cases,
    pixel_redrawn_cases,
)
from lit_robust.evaluation.plan import EvaluationPlan, PlannedAttack, make_plan
from lit_robust.evaluation.presets import autoattack
from lit_robust.evaluation.records import PointRecords
from lit_robust.evaluation.repeated import RepeatedEvaluation, evaluate_repeatedly
from lit_robust.evaluation.report import RobustnessReport
from lit_robust.evaluation.results import MEASURES, Column, Measure, PointResults, Summary
from lit_robust.evaluation.sanity import SanityCheckWarning, SanityFlag, run_sanity_checks

__all__ = [
    "CASE_NAMES",
    "MEASURES",
    "BlockEvaluator",
    "Case",
    "Closest",
    "Column",
    "EvaluationPlan",
    "Measure",
    "PlannedAttack",
    "PointRecords",
    "PointResults",
    "RedrawnStart",
    "RepeatedEvaluation",
    "RobustnessReport",
    "SanityCheckWarning",
    "SanityFlag",
    "Summary",
    "autoattack",
    "case_accuracy",
    "evaluate_cases",
    "evaluate_repeatedly",
    "evaluate_robustness",
    "make_plan",
    "pixel_redrawn_cases",
    "run_sanity_checks",
]
