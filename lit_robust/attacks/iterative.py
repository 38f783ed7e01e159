"""The iterative gradient attack shared by FGSM, BIM, PGD, MIM, LL and ILL: projected steepest ascent."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

from lit_robust.attacks.base import Model, Norm, check_choice, check_positive, flat_norm, per_sample, project
from lit_robust.attacks.gradient import LossFn, input_gradient
from lit_robust.attacks.objectives import ascent_loss, succeeded
from lit_robust.attacks.per_point import best_of_restarts, random_start
from lit_robust.attacks.targets import TargetedAttack, TargetRule

StepNorm = Literal["Linf", "L2"]


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
    if norm == "Linf":
        lower = (x - eps).clamp_(min=0.0)
        upper = (x + eps).clamp_(max=1.0)
    momentum = torch.zeros_like(x) if decay is not None else None
    x_adv = x_adv.clone()  # updated in place below
    for _ in range(steps):
        grad, _, _ = input_gradient(model, x_adv, loss_fn)
        if momentum is not None:
            grad = momentum.mul_(decay).add_(grad / per_sample(flat_norm(grad, "L1").clamp_min(1e-12), grad))
        if norm == "Linf":
            direction = grad.sign() if momentum is not None else grad.sign_()
            x_adv.add_(direction, alpha=step_size).clamp_(lower, upper)
        else:
            step = grad / per_sample(flat_norm(grad, "L2").clamp_min(1e-12), grad)
            x_adv = project(x_adv + step_size * step, x, eps, "L2")
    return x_adv


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
    ) -> None:
        super().__init__(eps, targeted, target, seed)
        check_choice("norm", norm, get_args(StepNorm))
        check_positive("steps", steps)
        check_positive("step_size", step_size, allow_none=True)
        check_positive("restarts", restarts)
        self.norm: Norm = norm
        self.steps = steps
        self.step_size = step_size
        self.random_start = random_start
        self.restarts = restarts
        self.decay = decay

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        target = self.targets(model, x, y, generator)
        step_size = self.relative_step * self.eps / self.steps if self.step_size is None else self.step_size

        def run(xs: Tensor, ys: Tensor, ts: Tensor | None) -> Tensor:
            start = random_start(xs, self.eps, self.norm, generator) if self.random_start else xs
            loss_fn = ascent_loss("ce", ys, ts)
            return ascend(
                model,
                xs,
                start,
                loss_fn,
                eps=self.eps,
                norm=self.norm,
                steps=self.steps,
                step_size=step_size,
                decay=self.decay,
            )

        if self.restarts == 1:
            return run(x, y, target)

        def scored_run(index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
            ys, ts = y[index], None if target is None else target[index]
            x_adv = run(x[index], ys, ts)
            with torch.no_grad():
                logits = model(x_adv)
            return x_adv, succeeded(logits, ys, ts), ascent_loss("ce", ys, ts)(logits)

        return best_of_restarts(x, self.restarts, scored_run)
