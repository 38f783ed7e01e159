"""Auto-PGD (Croce and Hein 2020): PGD with momentum and a step size halved at checkpoints."""

from __future__ import annotations

import math
from typing import get_args

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
from lit_robust.attacks.gradient import input_gradient
from lit_robust.attacks.iterative import StepNorm
from lit_robust.attacks.objectives import LossName, ascent_loss, succeeded
from lit_robust.attacks.per_point import best_of_restarts, random_start
from lit_robust.attacks.targets import TargetedAttack, TargetRule

MOMENTUM = 0.75


def checkpoints(steps: int) -> set[int]:
    """Iterations after which APGD checks its progress: ``ceil(p_j * steps)`` with ``p_0 = 0``,
    ``p_1 = 0.22`` and ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``."""
    previous, current, marks = 0.0, 0.22, set()
    while current <= 1.0:
        marks.add(math.ceil(current * steps - 1e-9))  # the tolerance absorbs float error in p_j
        previous, current = current, current + max(current - previous - 0.03, 0.06)
    return marks


class APGD(TargetedAttack):
    """Auto-PGD: starts from a random point with step size ``2 * eps``, moves with momentum 0.75, and at
    each checkpoint halves a point's step size (restarting it from its best point) when fewer than ``rho``
    of the steps since the last checkpoint increased the loss, or when the step size was not reduced at the
    last checkpoint and the best loss has not improved since. Keeps per point the first successful iterate,
    else the highest-loss one; over restarts, the first successful result, else the highest loss.

    Args:
        eps: radius of the norm ball (pixel space).
        norm: ``"Linf"`` or ``"L2"``.
        steps: number of iterations per run (one forward and backward pass each, plus one at the start).
        loss: ``"ce"`` (cross-entropy) or ``"dlr"`` (difference of logits ratio; at least 3 classes, 4 when
            targeted).
        restarts: number of runs.
        rho: fraction of loss-increasing steps below which the step size is halved.
        targeted: move towards a target class (negative cross-entropy or targeted DLR).
        target: how targets are chosen when ``targeted``; with ``"given"`` the targeted DLR takes the clean
            prediction as the source class.
        seed: seed of the attack's generator (random starts, random targets).
        early_stop: drop each point from the batch at its first successful iterate, which is what it returns
            anyway; every point's run depends only on its own state, so the results are the same and fooled
            points cost no further steps. The evaluation switches it on.
    """

    def __init__(
        self,
        eps: float,
        norm: StepNorm = "Linf",
        steps: int = 100,
        loss: LossName = "ce",
        restarts: int = 1,
        rho: float = 0.75,
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
        early_stop: bool = False,
    ) -> None:
        super().__init__(eps, targeted, target, seed)
        check_choice("norm", norm, get_args(StepNorm))
        check_choice("loss", loss, get_args(LossName))
        check_positive("steps", steps)
        check_positive("restarts", restarts)
        self.norm: Norm = norm
        self.steps = steps
        self.loss = loss
        self.restarts = restarts
        self.rho = rho
        self.early_stop = early_stop

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        target = self.targets(model, x, y, generator)
        source = y
        if target is not None and self.target == "given":
            with torch.no_grad():
                source = model_logits(model, x).argmax(dim=1)

        def run(index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
            ts = None if target is None else target[index]
            return self._run(model, x[index], source[index], y[index], ts, generator)

        return best_of_restarts(x, self.restarts, run)

    def _run(
        self,
        model: Model,
        x: Tensor,
        source: Tensor,
        y: Tensor,
        target: Tensor | None,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        marks = checkpoints(self.steps)
        x_adv = random_start(x, self.eps, self.norm, generator)
        loss_fn = ascent_loss(self.loss, source, target)
        grad, loss, logits = input_gradient(model, x_adv, loss_fn)
        success = succeeded(logits, y, target)
        x_success, x_best, grad_best, best_loss = x_adv, x_adv, grad, loss
        step_size = torch.full_like(loss, 2 * self.eps)
        x_previous, previous_loss = x_adv, loss
        increases = torch.zeros_like(loss)
        reduced_last = torch.ones_like(success)
        best_at_last_check, last_mark = best_loss, 0
        finished = (x_adv.clone(), success.clone(), best_loss.clone())  # every point's final result
        active = torch.arange(len(x), device=x.device)
        for i in range(self.steps):
            if self.early_stop and success.any():
                for out, value in zip(finished, (x_success, success, best_loss), strict=True):
                    out[active[success]] = value[success]
                keep = ~success
                active = active[keep]
                if active.numel() == 0:
                    return finished
                state = (x, source, y, target, x_adv, x_previous, grad, x_success, x_best, grad_best)
                state += (best_loss, step_size, previous_loss, increases, reduced_last, best_at_last_check)
                (x, source, y, target, x_adv, x_previous, grad, x_success, x_best, grad_best) = (
                    None if t is None else t[keep] for t in state[:10]
                )
                best_loss, step_size, previous_loss, increases, reduced_last, best_at_last_check = (
                    t[keep] for t in state[10:]
                )
                success = success[keep]
                loss_fn = ascent_loss(self.loss, source, target)
            z = project(x_adv + per_sample(step_size, x) * self._direction(grad), x, self.eps, self.norm)
            if i > 0:
                z = x_adv + MOMENTUM * (z - x_adv) + (1 - MOMENTUM) * (x_adv - x_previous)
                z = project(z, x, self.eps, self.norm)
            x_previous, x_adv = x_adv, z
            grad, loss, logits = input_gradient(model, x_adv, loss_fn)
            now = succeeded(logits, y, target)
            x_success = torch.where(per_sample(now & ~success, x), x_adv, x_success)
            success = success | now
            improved = loss > best_loss
            x_best = torch.where(per_sample(improved, x), x_adv, x_best)
            grad_best = torch.where(per_sample(improved, x), grad, grad_best)
            best_loss = torch.maximum(loss, best_loss)
            increases += (loss > previous_loss).to(loss.dtype)
            previous_loss = loss
            if i + 1 in marks:
                reduce = increases < self.rho * (i + 1 - last_mark)
                reduce |= ~reduced_last & (best_at_last_check >= best_loss)
                step_size = torch.where(reduce, step_size / 2, step_size)
                x_adv = torch.where(per_sample(reduce, x), x_best, x_adv)
                grad = torch.where(per_sample(reduce, x), grad_best, grad)
                previous_loss = torch.where(reduce, best_loss, previous_loss)
                reduced_last, best_at_last_check, last_mark = reduce, best_loss, i + 1
                increases = torch.zeros_like(loss)
        final = (torch.where(per_sample(success, x), x_success, x_best), success, best_loss)
        for out, value in zip(finished, final, strict=True):
            out[active] = value
        return finished

    def _direction(self, grad: Tensor) -> Tensor:
        if self.norm == "Linf":
            return grad.sign()
        return grad / per_sample(flat_norm(grad, "L2").clamp_min(1e-12), grad)
