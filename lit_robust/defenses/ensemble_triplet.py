"""`EnsembleTripletAdversarialTraining`: ensemble AT2L (Li et al. 2019, Algorithm 2), examples precomputed."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_robust.attacks.base import Norm
from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput
from lit_robust.defenses.triplet import TripletAdversarialTraining


def _precomputed_only(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    raise RuntimeError(
        "EnsembleTripletAdversarialTraining crafts nothing itself: its adversarial examples come with the "
        "batches of an EnsembleAdversarialExamples datamodule."
    )


class EnsembleTripletAdversarialTraining(TripletAdversarialTraining):
    """Ensemble AT2L: the AT2L loss (Eq. 2) on adversarial examples that the datamodule crafts in rounds by
    every attack in A against every model in M (:class:`~lit_robust.data.EnsembleAdversarialExamples`,
    which also holds the "known"/"unknown" setting).

    Batches ``(x, y, x_adv)`` are trained with Eq. 2; the datamodule's clean ``(x, y)`` pretraining batches
    (Algorithm 2, step 1) with the cross-entropy alone. ``lambda2: 0`` gives the paper's "Adv. Train"
    baseline (Eq. 1 on the same examples). Any other datamodule is refused when fitting starts.

    Args:
        backbone: the network mapping normalised images to logits (the evaluated model f).
        lambda1: weight of the adversarial cross-entropy (MNIST 0.3, CIFAR-10 0.6).
        lambda2: weight of the triplet term (1.0 in the paper; 0 for plain adversarial training).
        alpha: the triplet margin.
        distance: the norm of the logit distance (the paper: ``"Linf"``).
        **kwargs: the :class:`RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        lambda1: float = 0.3,
        lambda2: float = 1.0,
        alpha: float = 1.0,
        distance: Norm = "Linf",
        **kwargs: Any,
    ) -> None:
        super().__init__(backbone, _precomputed_only, lambda1, lambda2, alpha, distance, **kwargs)

    def on_fit_start(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if not callable(getattr(datamodule, "craft_round", None)):
            raise ValueError(
                "EnsembleTripletAdversarialTraining trains on examples that the datamodule crafts: use "
                f"EnsembleAdversarialExamples as data, got {type(datamodule).__name__}."
            )

    def training_loss(self, x: Tensor, y: Tensor, x_adv: Tensor | None = None) -> TrainingOutput:
        if x_adv is None:  # the datamodule's pretraining epochs: standard training
            return RobustClassifier.training_loss(self, x, y)
        return super().training_loss(x, y, x_adv)
