"""`VirtualAdversarialTraining` (Miyato et al. 2018): a KL smoothness penalty in the most sensitive
direction."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_robust.attacks import flat_norm, input_gradient
from lit_robust.attacks.base import per_sample
from lit_robust.defenses.attack_mode import AttackMode, check_attack_mode, module_mode
from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput
from lit_robust.defenses.trades import kl_to


def l2_normalize(v: Tensor) -> Tensor:
    """Each sample of ``v`` scaled to unit L2 norm."""
    return v / per_sample(flat_norm(v, "L2").clamp_min(1e-12), v)


class VirtualAdversarialTraining(RobustClassifier):
    """VAT: ``CE(f(x), y) + alpha * KL(f(x) || f(x + r_vadv))`` with ``r_vadv = eps * d / ||d||_2`` and
    ``d`` from ``power_iterations`` steps of ``d <- grad_d KL(f(x) || f(x + xi d / ||d||))`` from a
    Gaussian ``d``.

    As in the authors' code, the clean distribution in the KL is a constant (no gradient through it),
    ``r_vadv`` is an L2 perturbation per image that is not clipped to the [0, 1] box, and the labels are
    not used by the penalty (so it also applies to unlabelled data). ``eps`` is in pixel space; the
    adversary-critic paper's VAT baseline on MNIST uses 2.0.

    Args:
        backbone: the network mapping normalised images to logits.
        eps: L2 norm of the virtual adversarial perturbation (pixel space).
        xi: finite-difference scale of the power iteration (1e-6 in the paper).
        power_iterations: number of power iterations (1 in the paper).
        alpha: weight of the KL penalty.
        attack_mode: estimate ``r_vadv`` in ``"eval"`` or ``"train"`` mode (modes restored afterwards).
        **kwargs: the :class:`RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        eps: float = 2.0,
        xi: float = 1e-6,
        power_iterations: int = 1,
        alpha: float = 1.0,
        attack_mode: AttackMode = "eval",
        **kwargs: Any,
    ) -> None:
        if eps <= 0 or xi <= 0 or power_iterations < 1 or alpha < 0:
            raise ValueError(
                f"VAT needs eps > 0, xi > 0, power_iterations >= 1 and alpha >= 0, got eps={eps}, xi={xi},"
                f" power_iterations={power_iterations}, alpha={alpha}."
            )
        check_attack_mode(attack_mode)
        super().__init__(backbone, **kwargs)
        self.eps = eps
        self.xi = xi
        self.power_iterations = power_iterations
        self.alpha = alpha
        self.attack_mode: AttackMode = attack_mode

    def virtual_adversarial_perturbation(self, x: Tensor, clean_logits: Tensor) -> Tensor:
        """``r_vadv`` for the batch ``x`` whose (detached) clean logits are ``clean_logits``."""
        loss_fn = kl_to(clean_logits)
        d = torch.randn_like(x)
        with module_mode(self, self.attack_mode), torch.enable_grad():
            for _ in range(self.power_iterations):
                d, _, _ = input_gradient(self, x + self.xi * l2_normalize(d), loss_fn)
        return self.eps * l2_normalize(d)

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        clean_logits = self(x)
        r_vadv = self.virtual_adversarial_perturbation(x, clean_logits.detach())
        kl = kl_to(clean_logits.detach())(self(x + r_vadv)).mean()
        self.log("train/vat_kl", kl, batch_size=len(y))
        return TrainingOutput(self.classification_loss(clean_logits, y) + self.alpha * kl, clean_logits)
