"""The adversary-critic paper's high-confidence targeted L2 attack (Matyasko and Chau 2018), test time."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_robust.attacks.base import Model, check_positive, clip_norm, flat_norm, model_logits, per_sample
from lit_robust.attacks.gradient import LossFn, input_gradient
from lit_robust.attacks.per_point import iterate_until_done
from lit_robust.attacks.targets import TargetedAttack, TargetRule


def confidence_step(grad: Tensor, log_p: Tensor, log_c: Tensor) -> Tensor:
    """The paper's step towards ``log p_t = log C`` (Eq. 7, with the authors' stabilisers):
    ``r = (sqrt(1e-8) + |log C - log p_t| / |g|) * g / |g|`` with ``|g| = sqrt(1e-8 + sum g^2)``, ``g`` the
    input gradient of ``log p_t``.
    """
    norm = per_sample((flat_norm(grad, "L2").square() + 1e-8).sqrt(), grad)
    return (1e-4 + per_sample((log_c - log_p).abs(), grad) / norm) * grad / norm


def target_log_prob(target: Tensor) -> LossFn:
    """The per-sample loss ``log softmax(z)_target``."""
    return lambda logits: F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)


class HighConfidence(TargetedAttack):
    """Moves each point towards target ``t`` until ``p_t >= C`` and ``argmax = t``, with the adaptive step of
    :func:`confidence_step` clipped to ``max_step_norm`` and each iterate clipped to [0, 1] (the paper's
    evaluation: 500 iterations, clip 0.1, ``C`` the model's confidence on the original, closest target).
    Points that reach the condition stop there; the others return their last iterate.

    The differentiable training-time version (unrolled, no box, straight-through stopping) belongs to the
    adversary-critic defense, not here.

    Args:
        steps: maximum number of iterations.
        max_step_norm: L2 norm each step is clipped to; ``None`` for no clip.
        confidence: target confidence ``C`` in (0, 1]; ``None`` for the model's confidence (maximum softmax
            probability) on the original input, per point. ``C`` is capped at one float epsilon below 1: a
            saturated model's float confidence of exactly 1 could otherwise never be reached.
        target: how targets are chosen (the paper: ``"closest"``, the DeepFool rule; ``"given"``: ``y`` is
            the target).
        seed: seed of the attack's generator (only used by ``target="random"``).
    """

    norm = "L2"
    minimum_norm = True

    def __init__(
        self,
        steps: int = 500,
        max_step_norm: float | None = 0.1,
        confidence: float | None = None,
        target: TargetRule = "closest",
        seed: int | None = None,
    ) -> None:
        super().__init__(None, targeted=True, target=target, seed=seed)
        check_positive("steps", steps)
        check_positive("max_step_norm", max_step_norm, allow_none=True)
        if confidence is not None and not 0 < confidence <= 1:
            raise ValueError(f"confidence must lie in (0, 1], got {confidence}.")
        self.steps = steps
        self.max_step_norm = max_step_norm
        self.confidence = confidence

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        target = self.targets(model, x, y, generator)
        if self.confidence is None:
            with torch.no_grad():
                log_c = F.log_softmax(model_logits(model, x), dim=1).amax(dim=1)
        else:
            log_c = torch.full(y.shape, self.confidence, device=x.device, dtype=x.dtype).log()
        log_c = log_c.clamp(max=math.log1p(-torch.finfo(x.dtype).eps))

        def update(x_active: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
            t = target[index]
            grad, log_p, logits = input_gradient(model, x_active, target_log_prob(t))
            reached = (log_p >= log_c[index]) & (logits.argmax(dim=1) == t)
            step = clip_norm(confidence_step(grad, log_p, log_c[index]), self.max_step_norm)
            return reached, (x_active + step).clamp(0.0, 1.0)

        return iterate_until_done(x, self.steps, update)
