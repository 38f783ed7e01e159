"""Callbacks: evaluation inside the running validation and test loops, training throughput, and a
checkpoint on preemption (SIGTERM)."""

from lit_robust.callbacks.diversity import EnsembleDiversity
from lit_robust.callbacks.preemption import PreemptionCheckpoint
from lit_robust.callbacks.robustness import RobustnessEvaluation
from lit_robust.callbacks.subset import EvaluationSubset
from lit_robust.callbacks.throughput import TrainingThroughput
from lit_robust.callbacks.transfer import TransferEvaluation, load_source

__all__ = [
    "EnsembleDiversity",
    "EvaluationSubset",
    "PreemptionCheckpoint",
    "RobustnessEvaluation",
    "TrainingThroughput",
    "TransferEvaluation",
    "load_source",
]
