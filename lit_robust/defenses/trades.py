"""`TRADES` (Zhang et al. 2019): cross-entropy plus beta times the KL divergence to a nearby worst case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_robust.attacks import Attack, Model, StepNorm, ascend
from lit_robust.attacks.base import check_choice, check_positive
from lit_robust.defenses.adversarial_defense import AdversarialDefense
from lit_robust.defenses.attack_mode import AttackMode
from lit_robust.defenses.robust_classifier import TrainingOutput
from lit_robust.losses import TripletRegularizer


def kl_to(clean_logits: Tensor) -> Callable[[Tensor], Tensor]:
    """Per-sample ``KL(softmax(clean_logits) || softmax(logits))`` as a function of ``logits``."""
    clean_log_probs = F.log_softmax(clean_logits, dim=1)

    def kl(logits: Tensor) -> Tensor:
        log_probs = F.log_softmax(logits, dim=1)
        return F.kl_div(log_probs, clean_log_probs, reduction="none", log_target=True).sum(dim=1)

    return kl


class TradesAttack(Attack):
    """The TRADES inner maximisation: PGD on ``KL(f(x) || f(x'))`` (labels unused) from
    ``x + start_std * N(0, I)``, as in the authors' code (``0.001 * randn``).

    Args:
        eps: radius of the ball (pixel space).
        steps: number of ascent steps.
        step_size: size of each step (Linf: per pixel; L2: per image).
        norm: ``"Linf"`` (sign steps) or ``"L2"`` (normalised-gradient steps).
        start_std: standard deviation of the Gaussian random start.
        seed: seed of the start's generator (``None``: global RNG).
    """

    def __init__(
        self,
        eps: float,
        steps: int = 10,
        step_size: float = 0.007,
        norm: StepNorm = "Linf",
        start_std: float = 0.001,
        seed: int | None = None,
    ) -> None:
        super().__init__(eps, seed)
        check_choice("norm", norm, ("Linf", "L2"))
        check_positive("steps", steps)
        check_positive("step_size", step_size)
        self.norm = norm
        self.steps = steps
        self.step_size = step_size
        self.start_std = start_std

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        with torch.no_grad():
            loss_fn = kl_to(model(x))
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        start = (x + self.start_std * noise).clamp(0.0, 1.0)
        return ascend(
            model, x, start, loss_fn, eps=self.eps, norm=self.norm, steps=self.steps, step_size=self.step_size
        )


class TRADES(AdversarialDefense):
    """TRADES: ``CE(f(x), y) + beta * KL(f(x) || f(x'))``, ``x'`` from :class:`TradesAttack`.

    As in the authors' code, the KL term is summed over classes and averaged over the batch, the clean
    logits of the KL are not detached during training, and the attack runs in eval mode (``attack_mode``).
    An optional :class:`~lit_robust.losses.TripletRegularizer` adds the AT2L triplet term on
    ``(f(x'), f(x), f(x_neg))`` (the AT2L paper's triplet regularisation of another defense).

    Paper settings: CIFAR-10 eps 0.031, 10 steps of 0.007, beta 6 (1/lambda); MNIST eps 0.3, 40 steps of
    0.01, beta 6 (the authors' MNIST script uses beta 1). Logs ``train/kl`` (and ``train/triplet``).

    Args:
        backbone: the network mapping normalised images to logits.
        beta: weight of the KL term (1/lambda in the paper).
        eps: radius of the attack's ball (pixel space).
        steps: number of attack steps.
        step_size: attack step size.
        norm: attack norm, ``"Linf"`` or ``"L2"``.
        attack_mode: craft ``x'`` in ``"eval"`` (the authors' code) or ``"train"`` mode.
        triplet: the AT2L triplet regulariser, or ``None``.
        **kwargs: the :class:`~lit_robust.defenses.RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        beta: float = 6.0,
        eps: float = 0.031,
        steps: int = 10,
        step_size: float = 0.007,
        norm: StepNorm = "Linf",
        attack_mode: AttackMode = "eval",
        triplet: TripletRegularizer | None = None,
        **kwargs: Any,
    ) -> None:
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        super().__init__(backbone, attack_mode=attack_mode, **kwargs)
        self.beta = beta
        self.attack = TradesAttack(eps, steps, step_size, norm)
        self.triplet = triplet

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        x_adv = self.craft(self.attack, x, y)
        clean_logits = self(x)
        adv_logits = self(x_adv)
        kl = kl_to(clean_logits)(adv_logits).mean()
        loss = self.classification_loss(clean_logits, y) + self.beta * kl
        self.log_terms({"kl": kl}, len(y))
        return TrainingOutput(self.add_triplet(loss, self.triplet, adv_logits, clean_logits, y), clean_logits)
