"""Defenses as LightningModules: `RobustClassifier` is the base of every one."""

from lit_robust.defenses.adversarial_defense import AdversarialDefense
from lit_robust.defenses.adversarial_training import AdversarialTraining
from lit_robust.defenses.adversary_critic import AdversaryCritic
from lit_robust.defenses.ensemble_triplet import EnsembleTripletAdversarialTraining
from lit_robust.defenses.layer_sampling import RandomLayerSampling
from lit_robust.defenses.loading import load_defended_model
from lit_robust.defenses.manual_optimization import ManualOptimizationDefense
from lit_robust.defenses.noise import VariablePerturbations
from lit_robust.defenses.pixel_redrawn import PixelRedrawnClassifier
from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput
from lit_robust.defenses.trades import TRADES, TradesAttack
from lit_robust.defenses.triplet import TripletAdversarialTraining
from lit_robust.defenses.vat import VirtualAdversarialTraining

__all__ = [
    "TRADES",
    "AdversarialDefense",
    "AdversarialTraining",
    "AdversaryCritic",
    "EnsembleTripletAdversarialTraining",
    "ManualOptimizationDefense",
    "PixelRedrawnClassifier",
    "RandomLayerSampling",
    "RobustClassifier",
    "TradesAttack",
    "TrainingOutput",
    "TripletAdversarialTraining",
    "VariablePerturbations",
    "VirtualAdversarialTraining",
    "load_defended_model",
]
