"""`TripletAdversarialTraining`: AT2L (Li et al. 2019), adversarial training with the triplet loss."""

from __future__ import annotations

from typing import Any

from torch import nn

from lit_robust.attacks import Attack
from lit_robust.attacks.base import Norm
from lit_robust.defenses.adversarial_training import AdversarialTraining
from lit_robust.defenses.attack_mode import AttackMode
from lit_robust.losses import TripletRegularizer


class TripletAdversarialTraining(AdversarialTraining):
    """AT2L, the paper's Eq. 2:
    ``[sum CE(x, y) + lambda1 sum CE(x_adv, y)] / ((1 + lambda1) k)
    + lambda2 / k * sum max(||f(x_adv) - f(x)|| - ||f(x_adv) - f(x_neg)|| + alpha, 0)``,
    with the anchor the adversarial example, the positive its clean example, the negative an example of the
    batch labelled as the class the adversarial example is predicted as (any other label when the batch
    has none), ``f`` the logits and the L-infinity distance (see :mod:`lit_robust.losses.triplet`).

    The paper's Algorithm 1 alternates rounds (craft ``X_adv`` for the whole training set against the
    current model, then retrain on ``[X, X_adv]``); here, as in its per-mini-batch description of Eq. 1,
    the examples are crafted against the current model at every step. Paper settings: MNIST lambda1 0.3,
    CIFAR-10 lambda1 0.6, lambda2 1.0 and alpha 1.0 for both, mini-batch k = 32, FGSM/I-FGSM/LL/I-LL with
    eps 0.3. This is :class:`AdversarialTraining` with ``adv_weight=lambda1`` and a
    :class:`~lit_robust.losses.TripletRegularizer`, named after the paper.

    Args:
        backbone: the network mapping normalised images to logits.
        attack: the training attack (``class_path: FGSM``, ``LL``, ``BIM``, ``ILL``, ...).
        lambda1: weight of the adversarial cross-entropy.
        lambda2: weight of the triplet term.
        alpha: the triplet margin.
        distance: the norm of the logit distance (the paper: ``"Linf"``).
        attack_mode: craft the examples in ``"eval"`` or ``"train"`` mode (see :class:`AdversarialTraining`).
        **kwargs: the :class:`RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        attack: Attack,
        lambda1: float = 0.3,
        lambda2: float = 1.0,
        alpha: float = 1.0,
        distance: Norm = "Linf",
        attack_mode: AttackMode = "eval",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            backbone,
            attack,
            adv_weight=lambda1,
            attack_mode=attack_mode,
            triplet=TripletRegularizer(lambda2, alpha, distance),
            **kwargs,
        )
