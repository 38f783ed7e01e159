"""Callbacks: evaluation inside the running validation and test loops, metrics files, training throughput,
and a checkpoint on preemption (SIGTERM)."""

from lit_robust.callbacks.diversity import EnsembleDiversity
from lit_robust.callbacks.metrics_file import MetricsFile
from lit_robust.callbacks.pixel_redrawn_cases import PixelRedrawnCases
from lit_robust.callbacks.preemption import PreemptionCheckpoint
from lit_robust.callbacks.robustness import RobustnessEvaluation
from lit_robust.callbacks.sampled_path_transfer import SampledPathTransfer
from lit_robust.callbacks.subset import EvaluationSubset
from lit_robust.callbacks.throughput import TrainingThroughput
from lit_robust.callbacks.transfer import TransferEvaluation, WorstOverSources, load_source

__all__ = [
    "EnsembleDiversity",
    "EvaluationSubset",
    "MetricsFile",
    "PixelRedrawnCases",
    "PreemptionCheckpoint",
    "RobustnessEvaluation",
    "SampledPathTransfer",
    "TrainingThroughput",
    "TransferEvaluation",
    "WorstOverSources",
    "load_source",
]
