"""Auto-PGD (Croce and Hein 2020): PGD with momentum and a step size halved at checkpoints."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, get_args

import torch
from torch import Tensor

from lit_robust.attacks.base import (
    Model,
    Norm,
    check_choice,
    flat_norm,
    model_logits,
    per_sample,
    project,
)
from lit_robust.attacks.gradient import input_gradient
from lit_robust.attacks.iterative import StepNorm, check_step_options
from lit_robust.attacks.objectives import LossName, ascent_loss, succeeded
from lit_robust.attacks.per_point import L2Start, best_of_restarts, random_start
from lit_robust.attacks.targets import TargetedAttack, TargetRule

MOMENTUM = 0.75
Schedule = Literal["code", "paper"]


def checkpoints(steps: int, schedule: Schedule = "code") -> set[int]:
    """Iterations after which APGD checks its progress.

    ``"paper"``: ``ceil(p_j * steps)`` with ``p_0 = 0``, ``p_1 = 0.22`` and
    ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``. ``"code"`` (the authors' code): the same recursion
    on whole numbers of steps rounded down, a first window of ``max(int(0.22 * steps), 1)`` steps, each next
    one ``max(int(0.03 * steps), 1)`` shorter but at least ``max(int(0.06 * steps), 1)``. Both give
    22, 41, 57, 70, 80, 87, 93, 99 at 100 steps and differ at other lengths (10 steps: the code's 2, 3, ...,
    10 against the paper's 3, 5, 6, 7, 8, 9, 10).
    """
    marks = set()
    if schedule == "paper":
        previous, current = 0.0, 0.22
        while current <= 1.0:
            marks.add(math.ceil(current * steps - 1e-9))  # the tolerance absorbs float error in p_j
            previous, current = current, current + max(current - previous - 0.03, 0.06)
        return marks
    window, shortest, decrease = (max(int(fraction * steps), 1) for fraction in (0.22, 0.06, 0.03))
    mark = window
    while mark <= steps:
        marks.add(mark)
        window = max(window - decrease, shortest)
        mark += window
    return marks


@dataclasses.dataclass
class _RunState:
    """The per-point state of one APGD run; early stop keeps the rows of the points still running."""

    x: Tensor
    source: Tensor
    y: Tensor
    loss_target: Tensor | None
    success_target: Tensor | None
    x_adv: Tensor
    x_previous: Tensor
    grad: Tensor
    x_success: Tensor
    x_best: Tensor
    grad_best: Tensor
    best_loss: Tensor
    step_size: Tensor
    previous_loss: Tensor
    increases: Tensor
    reduced_last: Tensor
    best_at_last_check: Tensor
    success: Tensor

    def keep(self, rows: Tensor) -> _RunState:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return _RunState(**{name: None if value is None else value[rows] for name, value in fields.items()})


class APGD(TargetedAttack):
    """Auto-PGD: starts from a random point with step size ``2 * eps``, moves with momentum 0.75, and at
    each checkpoint halves a point's step size (restarting it from its best point) when at most ``rho`` of
    the steps since the last checkpoint increased the loss, or when the step size was not reduced at the
    last checkpoint and the best loss has not improved since. Keeps per point the first successful iterate,
    else the highest-loss one; over restarts, the first successful result, else the highest loss.

    The schedule follows the authors' code by default (``schedule="code"``), which differs from the paper
    in three details: its checkpoints are rounded down (see :func:`checkpoints`), the step size is halved
    when the count of loss increases is ``<= rho`` times the window (the paper: ``<``), and each step's loss
    is compared with the previous iterate's loss even across a restart from the best point, with a loss of
    0 before the first step (the code's zero-initialised loss history). ``schedule="paper"`` uses the
    paper's rounded-up checkpoints and strict ``<``, starts from the loss of the random start and, after a
    restart from the best point, compares the next step with the best loss.

    Args:
        eps: radius of the norm ball (pixel space).
        norm: ``"Linf"`` or ``"L2"``.
        steps: number of iterations per run (one forward and backward pass each, plus one at the start).
        loss: ``"ce"`` (cross-entropy) or ``"dlr"`` (difference of logits ratio; at least 3 classes, 4 when
            targeted).
        restarts: number of runs.
        rho: fraction of loss-increasing steps at or below which the step size is halved.
        targeted: move towards a target class (negative cross-entropy or targeted DLR).
        target: how targets are chosen when ``targeted``; with ``"given"`` the targeted DLR takes the clean
            prediction as the source class.
        seed: seed of the attack's generator (random starts, random targets).
        early_stop: drop each point from the batch at its first successful iterate, which is what it returns
            anyway; every point's run depends only on its own state, so the results are the same and fooled
            points cost no further steps. The evaluation switches it on.
        schedule: ``"code"`` (the authors' code, default) or ``"paper"``, see above.
        l2_start: the L2 random start (see :func:`~lit_robust.attacks.per_point.random_start`): ``"ball"``
            (default: uniform in the ball, radius ``eps * u^(1/d)``, which for images is within a fraction
            ``1/d`` of the authors' start on the sphere and is the threat model's uniform distribution),
            ``"sphere"`` (the authors' code) or ``"radius"`` (uniform radius).
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
        schedule: Schedule = "code",
        l2_start: L2Start = "ball",
    ) -> None:
        super().__init__(eps, targeted, target, seed)
        check_step_options(norm, steps=steps, restarts=restarts)
        check_choice("loss", loss, get_args(LossName))
        check_choice("schedule", schedule, get_args(Schedule))
        check_choice("l2_start", l2_start, get_args(L2Start))
        self.norm: Norm = norm
        self.steps = steps
        self.loss = loss
        self.restarts = restarts
        self.rho = rho
        self.early_stop = early_stop
        self.schedule = schedule
        self.l2_start = l2_start

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        target = self.targets(model, x, y, generator)
        source = y
        if target is not None and self.target == "given":
            with torch.no_grad():
                source = model_logits(model, x).argmax(dim=1)

        def run(index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
            ts = None if target is None else target[index]
            return self.run_once(model, x[index], source[index], y[index], ts, ts, generator)

        return best_of_restarts(x, self.restarts, run)

    def run_once(
        self,
        model: Model,
        x: Tensor,
        source: Tensor,
        y: Tensor,
        loss_target: Tensor | None,
        success_target: Tensor | None,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One APGD run from a random start; returns ``(x_adv, success, best loss)`` per point.

        The loss moves away from ``source`` (towards ``loss_target`` when given); success is misclassifying
        ``y`` (hitting ``success_target`` when given).
        """
        code = self.schedule == "code"
        marks = checkpoints(self.steps, self.schedule)
        x_adv = random_start(x, self.eps, self.norm, generator, self.l2_start)
        grad, loss, logits = input_gradient(model, x_adv, ascent_loss(self.loss, source, loss_target))
        success = succeeded(logits, y, success_target)
        s = _RunState(
            x=x, source=source, y=y, loss_target=loss_target, success_target=success_target,
            x_adv=x_adv, x_previous=x_adv, grad=grad, x_success=x_adv, x_best=x_adv, grad_best=grad,
            best_loss=loss, step_size=torch.full_like(loss, 2 * self.eps),
            previous_loss=torch.zeros_like(loss) if code else loss, increases=torch.zeros_like(loss),
            reduced_last=torch.ones_like(success), best_at_last_check=loss, success=success,
        )  # fmt: skip
        finished = (x_adv.clone(), success.clone(), loss.clone())  # every point's final result
        active = torch.arange(len(x), device=x.device)
        last_mark = 0
        for i in range(self.steps):
            if self.early_stop and s.success.any():
                for out, value in zip(finished, (s.x_success, s.success, s.best_loss), strict=True):
                    out[active[s.success]] = value[s.success]
                active, s = active[~s.success], s.keep(~s.success)
                if active.numel() == 0:
                    return finished
            self._step(model, s, first=i == 0)
            if i + 1 in marks:
                window = i + 1 - last_mark
                few = s.increases <= self.rho * window if code else s.increases < self.rho * window
                reduce = few | (~s.reduced_last & (s.best_at_last_check >= s.best_loss))
                s.step_size = torch.where(reduce, s.step_size / 2, s.step_size)
                s.x_adv = torch.where(per_sample(reduce, s.x), s.x_best, s.x_adv)
                s.grad = torch.where(per_sample(reduce, s.x), s.grad_best, s.grad)
                if not code:
                    s.previous_loss = torch.where(reduce, s.best_loss, s.previous_loss)
                s.reduced_last, s.best_at_last_check, last_mark = reduce, s.best_loss, i + 1
                s.increases = torch.zeros_like(s.increases)
        final = (torch.where(per_sample(s.success, s.x), s.x_success, s.x_best), s.success, s.best_loss)
        for out, value in zip(finished, final, strict=True):
            out[active] = value
        return finished

    def _step(self, model: Model, s: _RunState, first: bool) -> None:
        """One momentum step from ``s.x_adv``, its loss and gradient, and the per-point bookkeeping."""
        step = per_sample(s.step_size, s.x) * self._direction(s.grad)
        z = project(s.x_adv + step, s.x, self.eps, self.norm)
        if not first:
            z = s.x_adv + MOMENTUM * (z - s.x_adv) + (1 - MOMENTUM) * (s.x_adv - s.x_previous)
            z = project(z, s.x, self.eps, self.norm)
        s.x_previous, s.x_adv = s.x_adv, z
        loss_fn = ascent_loss(self.loss, s.source, s.loss_target)
        s.grad, loss, logits = input_gradient(model, s.x_adv, loss_fn)
        now = succeeded(logits, s.y, s.success_target)
        s.x_success = torch.where(per_sample(now & ~s.success, s.x), s.x_adv, s.x_success)
        s.success = s.success | now
        improved = per_sample(loss > s.best_loss, s.x)
        s.x_best = torch.where(improved, s.x_adv, s.x_best)
        s.grad_best = torch.where(improved, s.grad, s.grad_best)
        s.best_loss = torch.maximum(loss, s.best_loss)
        s.increases += (loss > s.previous_loss).to(loss.dtype)
        s.previous_loss = loss

    def _direction(self, grad: Tensor) -> Tensor:
        if self.norm == "Linf":
            return grad.sign()
        return grad / per_sample(flat_norm(grad, "L2").clamp_min(1e-12), grad)
