"""FAB, the fast adaptive boundary attack (Croce and Hein 2020), untargeted and targeted (FAB-T)."""

from __future__ import annotations

from typing import get_args

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, Norm, check_choice, check_positive, flat_norm, model_logits
from lit_robust.attacks.hyperplane import box_step_to_hyperplane
from lit_robust.attacks.iterative import StepNorm
from lit_robust.attacks.linear import boundaries, other_classes
from lit_robust.attacks.per_point import random_start

DEFAULT_RESTART_RADIUS = {"Linf": 0.3, "L2": 1.0}  # the authors' code, for [0, 1] images
DUAL = {"Linf": "L1", "L2": "L2"}


class FAB(Attack):
    """Minimum-norm attack that steps onto the linearised decision boundary, biased back towards ``x``.

    Each step linearises the logit gaps ``f_k = z_k - z_y`` at the current point ``x_i`` (untargeted: all
    other classes, taking the one whose linearised boundary is nearest in the attack's norm; targeted: the
    target only), projects both ``x_i`` and the original ``x`` onto that hyperplane inside the [0, 1] box
    (:func:`~lit_robust.attacks.hyperplane.box_step_to_hyperplane`, giving steps ``d_i`` and ``d_0``), and
    moves to ``(1 - a)(x_i + eta d_i) + a (x + eta d_0)`` with
    ``a = min(|d_i| / (|d_i| + |d_0|), alpha_max)``. A point that is misclassified there is recorded when its
    distance to ``x`` is the smallest so far, and pulled back to ``x + beta (x_i - x)``. This is the paper's
    algorithm; its constants (``alpha_max`` 0.1, ``eta`` 1.05, ``beta`` 0.9) are the authors' AutoAttack
    settings. The first run starts at ``x``; each restart starts at a random point of the ball of radius
    ``min(best norm so far, restart_radius) / 2`` (the original FAB code; its Linf start lies on the sphere,
    ours is uniform in the cube). One step costs one forward and backward pass over the batch repeated once
    per candidate class, plus one forward pass.

    Targeted (FAB-T, as in AutoAttack): one run per target, the classes ranked 2nd to
    ``num_target_classes + 1``-th by the clean logits; a point counts as broken on *any* misclassification.

    Two modes. ``eps=None``: minimum-norm (``minimum_norm`` is true, like DeepFool and C&W): every run
    attacks every correctly classified point and each point returns its smallest adversarial example over
    all runs (else ``x``), so one run gives each point's minimal norm and hence the accuracy at every
    radius of a grid. With ``eps``: bounded, as AutoAttack uses FAB-T: later runs attack only the points
    without an adversarial example within ``eps``, and a point returns its adversarial example only if it
    lies within ``eps`` (else ``x``); with ``early_stop`` a point stops as soon as it has one.

    Args:
        eps: the radius of the bounded mode; ``None`` for minimum-norm.
        norm: ``"Linf"`` or ``"L2"``.
        steps: iterations per run.
        restarts: runs per target (targeted) or in all (untargeted).
        targeted: FAB-T over the top ``num_target_classes`` other classes.
        num_target_classes: targets of FAB-T (at most all other classes).
        seed: seed of the attack's generator (restarts' random starts).
        alpha_max: largest weight of the projection of the original point.
        eta: overshoot of the projections.
        beta: backward step factor applied to points that are misclassified.
        restart_radius: radius cap of the restarts' random starts; ``None``: ``eps`` when bounded, else the
            authors' default (0.3 Linf, 1.0 L2).
        early_stop: bounded mode only: stop each point at its first adversarial example within ``eps`` (the
            same robust accuracy, a cheaper run); the evaluation switches it on.
    """

    def __init__(
        self,
        eps: float | None = None,
        norm: StepNorm = "Linf",
        steps: int = 100,
        restarts: int = 1,
        targeted: bool = True,
        num_target_classes: int = 9,
        seed: int | None = 0,
        alpha_max: float = 0.1,
        eta: float = 1.05,
        beta: float = 0.9,
        restart_radius: float | None = None,
        early_stop: bool = False,
    ) -> None:
        super().__init__(eps, seed)
        check_choice("norm", norm, get_args(StepNorm))
        for name, value in (
            ("steps", steps),
            ("restarts", restarts),
            ("num_target_classes", num_target_classes),
        ):
            check_positive(name, value)
        check_positive("restart_radius", restart_radius, allow_none=True)
        if not 0 <= alpha_max <= 1 or not 0 < beta <= 1 or eta < 1:
            raise ValueError(
                f"FAB needs 0 <= alpha_max <= 1, 0 < beta <= 1, eta >= 1; got {alpha_max}, {beta}, {eta}."
            )
        self.norm: Norm = norm
        self.steps = steps
        self.restarts = restarts
        self.targeted = targeted
        self.num_target_classes = num_target_classes
        self.alpha_max = alpha_max
        self.eta = eta
        self.beta = beta
        self.restart_radius = restart_radius
        self.early_stop = early_stop

    @property
    def minimum_norm(self) -> bool:  # type: ignore[override]
        """True without ``eps``: the attack then returns each point's smallest adversarial example."""
        return self.eps is None

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        with torch.no_grad():
            logits = model_logits(model, x)
        correct = logits.argmax(dim=1) == y
        best, best_norm = x.clone(), torch.full_like(y, torch.inf, dtype=x.dtype)
        radius = self.restart_radius or (
            self.eps if self.eps is not None else DEFAULT_RESTART_RADIUS[self.norm]
        )
        if self.targeted:
            ranked = other_classes(logits, logits.argmax(dim=1), self.num_target_classes)  # 2nd, 3rd, ...
            count = ranked.shape[1]
            runs = [
                (ranked[:, rank : rank + 1], restart)
                for rank in range(count)
                for restart in range(self.restarts)
            ]
        else:
            runs = [(other_classes(logits, y), restart) for restart in range(self.restarts)]
        for candidates, restart in runs:
            standing = correct if self.eps is None else correct & (best_norm > self.eps)
            index = standing.nonzero().squeeze(1)
            if index.numel() == 0:
                continue
            start = x[index]
            if restart > 0:
                start = random_start(
                    start, best_norm[index].clamp(max=radius) / 2, self.norm, generator, "sphere"
                )
            adv, norms = self._run(model, x[index], y[index], start, candidates[index])
            better = norms < best_norm[index]
            best[index[better]], best_norm[index[better]] = adv[better], norms[better]
        if self.eps is not None:
            best = torch.where((best_norm <= self.eps).view(-1, *[1] * (x.dim() - 1)), best, x)
        return best

    def _run(
        self, model: Model, x: Tensor, y: Tensor, start: Tensor, candidates: Tensor
    ) -> tuple[Tensor, Tensor]:
        """One FAB run; returns each point's smallest adversarial example and its norm (``inf`` if none)."""
        best, best_norm = x.clone(), torch.full_like(y, torch.inf, dtype=x.dtype)
        current = start.clone()
        active = torch.arange(len(x), device=x.device)
        for _ in range(self.steps):
            if self.early_stop and self.eps is not None:
                active = active[best_norm[active] > self.eps]
                if active.numel() == 0:
                    break
            x0, x1 = x[active], current[active]
            moved = self._step(model, x0, x1, y[active], candidates[active])
            with torch.no_grad():
                fooled = model_logits(model, moved).argmax(dim=1) != y[active]
            norms = flat_norm(moved - x0, self.norm)
            better = fooled & (norms < best_norm[active])
            best[active[better]], best_norm[active[better]] = moved[better], norms[better]
            current[active] = torch.where(
                fooled.view(-1, *[1] * (x.dim() - 1)), x0 + self.beta * (moved - x0), moved
            )
        return best, best_norm

    def _step(self, model: Model, x0: Tensor, x1: Tensor, y: Tensor, candidates: Tensor) -> Tensor:
        f, w, _ = boundaries(model, x1, y, candidates)
        distance = f.abs() / flat_norm(w.flatten(0, 1), DUAL[self.norm]).view_as(f).clamp_min(1e-12)
        rows = torch.arange(len(x0), device=x0.device)
        nearest = distance.argmin(dim=1)
        gap, normal = f[rows, nearest], w[rows, nearest].flatten(1)
        to_current = box_step_to_hyperplane(x1.flatten(1), normal, gap, self.norm)
        gap_from_x = gap + (normal * (x0 - x1).flatten(1)).sum(dim=1)
        to_original = box_step_to_hyperplane(x0.flatten(1), normal, gap_from_x, self.norm)
        a1 = flat_norm(to_current, self.norm).clamp_min(1e-8)
        a0 = flat_norm(to_original, self.norm).clamp_min(1e-8)
        alpha = (a1 / (a1 + a0)).clamp(0.0, self.alpha_max).unsqueeze(1)
        moved = (x1.flatten(1) + self.eta * to_current) * (1 - alpha) + (
            x0.flatten(1) + self.eta * to_original
        ) * alpha
        return moved.clamp(0.0, 1.0).view_as(x0)
