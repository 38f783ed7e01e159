"""`VirtualAdversarialTraining` (Miyato et al. 2018): a KL smoothness penalty in the most sensitive
direction."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_robust.attacks import Model, flat_norm, input_gradient
from lit_robust.attacks.base import per_sample
from lit_robust.defenses.adversarial_defense import AdversarialDefense
from lit_robust.defenses.attack_mode import AttackMode
from lit_robust.defenses.random_state import RandomState
from lit_robust.defenses.robust_classifier import TrainingOutput
from lit_robust.defenses.trades import kl_to


def l2_normalize(v: Tensor) -> Tensor:
    """Each sample of ``v`` scaled to unit L2 norm."""
    return v / per_sample(flat_norm(v, "L2").clamp_min(1e-12), v)


class VirtualAdversarialTraining(AdversarialDefense):
    """VAT: ``CE(f(x), y) + alpha * KL(f(x) || f(x + r_vadv))`` with ``r_vadv = eps * d / ||d||_2`` and
    ``d`` from ``power_iterations`` steps of ``d <- grad_d KL(f(x) || f(x + xi d / ||d||))`` from a
    Gaussian ``d``.

    As in the authors' code, the clean distribution in the KL is a constant (no gradient through it),
    ``r_vadv`` is an L2 perturbation per image that is not clipped to the [0, 1] box, and the labels are
    not used by the penalty (so it also applies to unlabelled data). ``eps`` is in pixel space; the
    adversary-critic paper's VAT baseline on MNIST uses 2.0.

    The penalty's clean target, its power iteration and its perturbed forward pass use one function ``f``,
    so the KL is exactly 0 at ``r = 0``: with ``attack_mode="eval"`` (the default) the deterministic model
    (no dropout, batch-norm running statistics; the target is an extra forward pass without gradients);
    with ``"train"`` the model in training mode, whose target is the training pass's own clean logits and
    whose penalty passes replay that pass's random state (the same dropout masks) and leave the batch-norm
    running statistics untouched (the authors' TensorFlow code: every pass in training mode,
    ``update_batch_stats=False`` for the perturbed ones).

    ``xi`` deviates from the paper's 1e-6: on [0, 1] pixels a perturbation of L2 norm 1e-6 spreads
    about 4e-8 over each of 784 pixels, below float32 resolution near 1, so in float32 the power iteration
    follows rounding noise (measured on a briefly trained Fashion-MNIST model A: mean |cos| 0.64 to the
    float64 direction at 1e-6, against 0.986 with the default 1e-2). 1e-2 is still small next to ``eps``
    (in float64 the direction at 1e-2 is that at 1e-6 to |cos| 0.999).

    Args:
        backbone: the network mapping normalised images to logits.
        eps: L2 norm of the virtual adversarial perturbation (pixel space).
        xi: finite-difference scale of the power iteration (pixel space, L2; the paper's 1e-6 is below
            float32 resolution, see above).
        power_iterations: number of power iterations (1 in the paper).
        alpha: weight of the KL penalty.
        attack_mode: the mode of the penalty's function ``f``, ``"eval"`` or ``"train"`` (see above; modes
            restored afterwards).
        **kwargs: the :class:`~lit_robust.defenses.RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        eps: float = 2.0,
        xi: float = 1e-2,
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
        super().__init__(backbone, attack_mode=attack_mode, **kwargs)
        self.eps = eps
        self.xi = xi
        self.power_iterations = power_iterations
        self.alpha = alpha

    def virtual_adversarial_perturbation(self, model: Model, x: Tensor, target_logits: Tensor) -> Tensor:
        """``r_vadv`` for the batch ``x`` against ``model`` (the penalty's ``f``), whose (detached) logits
        of the clean ``x`` are ``target_logits``."""
        loss_fn = kl_to(target_logits)
        d = torch.randn(x.shape, device=x.device).to(x.dtype)  # float32 draws: one start for every dtype
        with torch.enable_grad():
            for _ in range(self.power_iterations):
                d, _, _ = input_gradient(model, x + self.xi * l2_normalize(d), loss_fn)
        return self.eps * l2_normalize(d)

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        randomness = RandomState(x.device) if self.attack_mode == "train" else None
        clean_logits = self(x)

        def penalty_model(z: Tensor) -> Tensor:
            """The penalty's ``f``: in ``"train"`` mode with the clean pass's random state (dropout masks)."""
            if randomness is None:
                return self(z)
            with randomness.replay():
                return self(z)

        with self.in_attack_mode():
            if randomness is not None:
                target_logits = clean_logits.detach()
            else:
                with torch.no_grad():
                    target_logits = self(x)
            r_vadv = self.virtual_adversarial_perturbation(penalty_model, x, target_logits)
            kl = kl_to(target_logits)(penalty_model(x + r_vadv)).mean()
        self.log_terms({"vat_kl": kl}, len(y))
        return TrainingOutput(self.classification_loss(clean_logits, y) + self.alpha * kl, clean_logits)
