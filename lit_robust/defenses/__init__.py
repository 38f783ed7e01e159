"""Defenses as LightningModules: `RobustClassifier` is the base of every one."""

from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput

__all__ = ["RobustClassifier", "TrainingOutput"]
