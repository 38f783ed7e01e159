"""Callbacks: evaluation inside the running validation and test loops, and training throughput."""

from lit_robust.callbacks.diversity import EnsembleDiversity
from lit_robust.callbacks.robustness import RobustnessEvaluation
from lit_robust.callbacks.subset import EvaluationSubset
from lit_robust.callbacks.throughput import TrainingThroughput
from lit_robust.callbacks.transfer import TransferEvaluation, load_source

__all__ = [
    "EnsembleDiversity",
    "EvaluationSubset",
    "RobustnessEvaluation",
    "TrainingThroughput",
    "TransferEvaluation",
    "load_source",
]
