"""The iterative gradient attack shared by FGSM, BIM, PGD, MIM, LL and ILL: projected steepest ascent."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

from lit_robust.attacks.base import (
    Model,
    Norm,
    check_choice,
    check_positive,
    flat_norm,
    model_logits,
    per_sample,
    project,
)
from lit_robust.attacks.gradient import LossFn, input_gradient
from lit_robust.attacks.objectives import ascent_loss, succeeded
from lit_robust.attacks.per_point import best_of_restarts, random_start
from lit_robust.attacks.targets import TargetedAttack, TargetRule

StepNorm = Literal["Linf", "L2"]


def check_step_options(norm: str, **counts: int) -> None:
    """The checks shared by the attacks that take a :data:`StepNorm` (:class:`IterativeAttack`, APGD,
    Square): ``norm`` is ``"Linf"`` or ``"L2"``, then each count (``steps=...``, ``restarts=...``) is > 0."""
    check_choice("norm", norm, get_args(StepNorm))
    for name, value in counts.items():
        check_positive(name, value)


def ascend(
    model: Model,
    x: Tensor,
    x_adv: Tensor,
    loss_fn: LossFn,
    *,
    eps: float,
    norm: StepNorm,
    steps: int,
    step_size: float,
    decay: float | None = None,
) -> Tensor:
    """``steps`` steps of projected steepest ascent on ``loss_fn`` from ``x_adv``; returns the last iterate.

    Linf steps follow the gradient's sign, L2 steps its direction; each iterate is projected onto the
    ``eps``-ball around ``x`` and the [0, 1] box. With ``decay`` the step follows a momentum of
    L1-normalised gradients (Dong et al. 2018). One forward and one backward pass per step, nothing else.
    """
    bounds = _linf_bounds(x, eps) if norm == "Linf" else None
    momentum = torch.zeros_like(x) if decay is not None else None
    x_adv = x_adv.clone()  # updated in place below
    for _ in range(steps):
        grad, _, _ = input_gradient(model, x_adv, loss_fn)
        x_adv = _step(x_adv, x, grad, momentum, bounds, eps=eps, norm=norm, step_size=step_size, decay=decay)
    return x_adv


def ascend_until_fooled(
    model: Model,
    x: Tensor,
    x_adv: Tensor,
    y: Tensor,
    target: Tensor | None,
    *,
    eps: float,
    norm: StepNorm,
    steps: int,
    step_size: float,
    decay: float | None = None,
) -> Tensor:
    """:func:`ascend` on the cross-entropy that stops, per point, at the first iterate that fools the model.

    The check reuses the logits of each step's forward pass, so it costs nothing, and later steps run on the
    points still standing only. For robust accuracy this loses no strength (a fooled point is broken); for
    adversarial training it would change the examples, so only evaluation should use it.
    """
    bounds = _linf_bounds(x, eps) if norm == "Linf" else None
    momentum = torch.zeros_like(x) if decay is not None else None
    x_adv = x_adv.clone()
    active = torch.arange(x.shape[0], device=x.device)
    for _ in range(steps):
        ys, ts = y[active], None if target is None else target[active]
        current = x_adv[active]
        grad, _, logits = input_gradient(model, current, ascent_loss("ce", ys, ts))
        standing = ~succeeded(logits, ys, ts)
        active, current, grad = active[standing], current[standing], grad[standing]
        if active.numel() == 0:
            break
        state = None if momentum is None else momentum[active]
        sub_bounds = None if bounds is None else (bounds[0][active], bounds[1][active])
        x_adv[active] = _step(
            current, x[active], grad, state, sub_bounds, eps=eps, norm=norm, step_size=step_size, decay=decay
        )
        if momentum is not None:
            momentum[active] = state
    return x_adv


def _linf_bounds(x: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    return (x - eps).clamp_(min=0.0), (x + eps).clamp_(max=1.0)


def _step(
    x_adv: Tensor,
    x: Tensor,
    grad: Tensor,
    momentum: Tensor | None,
    bounds: tuple[Tensor, Tensor] | None,
    *,
    eps: float,
    norm: StepNorm,
    step_size: float,
    decay: float | None,
) -> Tensor:
    """One projected steepest-ascent step (in place on ``x_adv`` and ``momentum`` where possible)."""
    if momentum is not None:
        grad = momentum.mul_(decay).add_(grad / per_sample(flat_norm(grad, "L1").clamp_min(1e-12), grad))
    if norm == "Linf":
        direction = grad.sign() if momentum is not None else grad.sign_()
        return x_adv.add_(direction, alpha=step_size).clamp_(*bounds)
    step = grad / per_sample(flat_norm(grad, "L2").clamp_min(1e-12), grad)
    return project(x_adv + step_size * step, x, eps, "L2")


class IterativeAttack(TargetedAttack):
    """Projected gradient ascent on the cross-entropy, with optional random start, restarts and momentum.

    Subclasses choose which of these arguments they expose and the default step-size rule:
    ``step_size = relative_step * eps / steps`` when no step size is given. An explicit ``step_size`` is
    absolute and stays fixed under :meth:`with_eps`.

    Args:
        eps: radius of the threat model's norm ball (pixel space).
        steps: number of gradient steps.
        step_size: size of each step (Linf: per pixel; L2: per image); ``None`` for the default rule.
        norm: ``"Linf"`` (sign steps) or ``"L2"`` (normalised-gradient steps).
        random_start: start from a uniform point of the ball instead of ``x``.
        restarts: number of runs; per point the first successful (else highest-loss) result is kept.
        decay: momentum decay factor; ``None`` for no momentum.
        targeted: descend the cross-entropy to a target class instead of ascending it for the label.
        target: how targets are chosen when ``targeted``.
        seed: seed of the attack's generator.
        early_stop: stop each point at its first iterate that fools the model (see
            :func:`ascend_until_fooled`); the evaluation switches it on, training should leave it off.
    """

    relative_step: float = 1.0

    def __init__(
        self,
        eps: float,
        steps: int,
        step_size: float | None = None,
        norm: StepNorm = "Linf",
        random_start: bool = False,
        restarts: int = 1,
        decay: float | None = None,
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
        early_stop: bool = False,
    ) -> None:
        super().__init__(eps, targeted, target, seed)
        check_step_options(norm, steps=steps, restarts=restarts)
        check_positive("step_size", step_size, allow_none=True)
        self.norm: Norm = norm
        self.steps = steps
        self.step_size = step_size
        self.random_start = random_start
        self.restarts = restarts
        self.decay = decay
        self.early_stop = early_stop

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        target = self.targets(model, x, y, generator)
        step_size = self.relative_step * self.eps / self.steps if self.step_size is None else self.step_size

        def run(xs: Tensor, ys: Tensor, ts: Tensor | None) -> Tensor:
            start = random_start(xs, self.eps, self.norm, generator) if self.random_start else xs
            options = dict(
                eps=self.eps, norm=self.norm, steps=self.steps, step_size=step_size, decay=self.decay
            )
            if self.early_stop:
                return ascend_until_fooled(model, xs, start, ys, ts, **options)
            return ascend(model, xs, start, ascent_loss("ce", ys, ts), **options)

        if self.restarts == 1:
            return run(x, y, target)

        def scored_run(index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
            ys, ts = y[index], None if target is None else target[index]
            x_adv = run(x[index], ys, ts)
            with torch.no_grad():
                logits = model_logits(model, x_adv)
            return x_adv, succeeded(logits, ys, ts), ascent_loss("ce", ys, ts)(logits)

        return best_of_restarts(x, self.restarts, scored_run)
