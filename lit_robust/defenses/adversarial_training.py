"""`AdversarialTraining`: Goodfellow et al.'s mixed loss (AT2L Eq. 1) and Madry et al.'s PGD training."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_robust.attacks import Attack
from lit_robust.defenses.adversarial_defense import AdversarialDefense
from lit_robust.defenses.attack_mode import AttackMode
from lit_robust.defenses.robust_classifier import TrainingOutput
from lit_robust.losses import TripletRegularizer


class AdversarialTraining(AdversarialDefense):
    """Adversarial training with any lit_robust attack crafted against the current model at every step.

    Loss ``(CE(x) + adv_weight * CE(x_adv)) / (1 + adv_weight)`` (Goodfellow et al. 2015; AT2L Eq. 1, where
    ``adv_weight`` is lambda), or ``CE(x_adv)`` alone with ``adv_only`` (Madry et al. 2018, with ``PGD``).
    An optional :class:`~lit_robust.losses.TripletRegularizer` adds the AT2L triplet term on
    ``(f(x_adv), f(x), f(x_neg))``; with ``adv_weight: 0`` that is the paper's "triplet regularisation"
    alone. The clean and adversarial batches go through the model in separate forward passes (batch norm
    never mixes them). With ``adv_only`` and no triplet term the clean logits, used only for ``train/acc``,
    are computed without gradients.

    Logs ``train/clean_loss``, ``train/adv_loss``, ``train/adv_acc`` and, with a triplet term,
    ``train/triplet``.

    Args:
        backbone: the network mapping normalised images to logits.
        attack: the training attack (``class_path: FGSM`` / ``PGD`` / any ``Attack``), in pixel space.
        adv_weight: lambda, the weight of the adversarial cross-entropy (>= 0).
        adv_only: train on the adversarial examples only (Madry et al.); ``adv_weight`` is then unused.
        attack_mode: craft the examples with the model in ``"eval"`` (default: no dropout, batch-norm
            running statistics, so the attack sees the deterministic model being defended) or ``"train"``
            mode (batch statistics, dropout; the running statistics are left untouched, see
            :func:`~lit_robust.defenses.attack_mode.module_mode`); the model's modes are restored
            afterwards. Madry et al.'s paper does not say; their MNIST and CIFAR-10 codes craft in
            training mode, so the PGD configs (``configs/baselines/pgd_at_*.yaml``) set ``"train"``.
        triplet: the AT2L triplet regulariser, or ``None``.
        **kwargs: the :class:`~lit_robust.defenses.RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        attack: Attack,
        adv_weight: float = 1.0,
        adv_only: bool = False,
        attack_mode: AttackMode = "eval",
        triplet: TripletRegularizer | None = None,
        **kwargs: Any,
    ) -> None:
        if adv_weight < 0:
            raise ValueError(f"adv_weight must be >= 0, got {adv_weight}.")
        super().__init__(backbone, attack_mode=attack_mode, **kwargs)
        self.attack = attack
        self.adv_weight = adv_weight
        self.adv_only = adv_only
        self.triplet = triplet

    def adversarial_examples(self, x: Tensor, y: Tensor) -> Tensor:
        """The training attack's examples against the current model, crafted in ``attack_mode``."""
        return self.craft(self.attack, x, y)

    def training_loss(self, x: Tensor, y: Tensor, x_adv: Tensor | None = None) -> TrainingOutput:
        """The loss of a batch; ``x_adv``, when the datamodule gives it with the batch (precomputed
        adversarial examples), is used instead of crafting them."""
        if x_adv is None:
            x_adv = self.adversarial_examples(x, y)
        adv_logits = self(x_adv)
        adv_loss = self.classification_loss(adv_logits, y)
        with torch.set_grad_enabled(not self.adv_only or self.triplet is not None):
            clean_logits = self(x)
            clean_loss = self.classification_loss(clean_logits, y)
        if self.adv_only:
            loss = adv_loss
        else:
            loss = (clean_loss + self.adv_weight * adv_loss) / (1 + self.adv_weight)
        loss = self.add_triplet(loss, self.triplet, adv_logits, clean_logits, y)
        self.log_terms({"clean_loss": clean_loss, "adv_loss": adv_loss}, len(y))
        adv_acc = (adv_logits.argmax(dim=1) == y).float().mean()
        self.log("train/adv_acc", adv_acc, on_step=False, on_epoch=True, batch_size=len(y))
        return TrainingOutput(loss, clean_logits)
