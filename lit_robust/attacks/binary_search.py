"""Minimum-norm attacks that minimise ``distance + c * margin loss`` with a per-sample search over ``c``.

Shared by Carlini-Wagner L2 and EAD: the margin loss of Carlini and Wagner (2017), the per-sample binary
search over the constant ``c``, and the bookkeeping of the smallest successful example per point.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_robust.attacks.base import Model, check_positive, per_sample
from lit_robust.attacks.gradient import LossFn
from lit_robust.attacks.objectives import margin
from lit_robust.attacks.targets import TargetedAttack, TargetRule

_UNBOUNDED = 1e10


class SearchState:
    """Per-sample constants ``c`` with their search bounds, and the best successful example so far.

    Args:
        x: the clean batch; points never fooled keep it as their result.
        initial_c: the first constant of every sample.
    """

    def __init__(self, x: Tensor, initial_c: float) -> None:
        batch = x.shape[0]
        self.c = torch.full((batch,), initial_c, device=x.device, dtype=x.dtype)
        self.lower = torch.zeros_like(self.c)
        self.upper = torch.full_like(self.c, _UNBOUNDED)
        self.best = x.clone()
        self.best_distance = torch.full_like(self.c, float("inf"))
        self.found = torch.zeros(batch, dtype=torch.bool, device=x.device)

    def record(self, x_adv: Tensor, distance: Tensor, success: Tensor) -> None:
        """Keeps ``x_adv`` where it succeeds with a smaller distance than the best so far."""
        better = success & (distance < self.best_distance)
        self.best = torch.where(per_sample(better, x_adv), x_adv, self.best)
        self.best_distance = torch.where(better, distance, self.best_distance)
        self.found |= success

    def next_constants(self) -> None:
        """Binary search step: lower ``c`` where this round succeeded, raise it (x10 until bounded) where
        it did not; then starts a new round."""
        self.upper = torch.where(self.found, torch.minimum(self.upper, self.c), self.upper)
        self.lower = torch.where(self.found, self.lower, torch.maximum(self.lower, self.c))
        bounded = self.upper < _UNBOUNDED
        self.c = torch.where(bounded, (self.lower + self.upper) / 2, self.c * 10)
        self.found = torch.zeros_like(self.found)


class BinarySearchAttack(TargetedAttack):
    """Template for C&W-style attacks: subclasses implement :meth:`minimise` for one round at fixed ``c``.

    The defaults are Carlini and Wagner's, which EAD's paper keeps.

    Args:
        c: initial constant trading the distance against the margin loss.
        binary_search_steps: rounds of the per-sample binary search over ``c``.
        steps: optimisation steps per round.
        lr: learning rate of the optimiser.
        confidence: margin ``kappa`` by which the adversarial class must win.
        abort_early: end a round when the total loss stopped decreasing (checked every ``steps // 10``).
        targeted: reach a target class instead of leaving the label.
        target: how targets are chosen when ``targeted``.
        seed: seed of the attack's generator (only used by ``target="random"``).
    """

    minimum_norm = True

    def __init__(
        self,
        c: float = 1e-3,
        binary_search_steps: int = 9,
        steps: int = 1000,
        lr: float = 1e-2,
        confidence: float = 0.0,
        abort_early: bool = True,
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
    ) -> None:
        super().__init__(None, targeted, target, seed)
        check_positive("c", c)
        check_positive("binary_search_steps", binary_search_steps)
        check_positive("steps", steps)
        check_positive("lr", lr)
        self.c = c
        self.binary_search_steps = binary_search_steps
        self.steps = steps
        self.lr = lr
        self.confidence = confidence
        self.abort_early = abort_early

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        target = self.targets(model, x, y, generator)
        labels, sign = (y, 1.0) if target is None else (target, -1.0)
        state = SearchState(x, self.c)

        def signed_margin(logits: Tensor) -> Tensor:
            return sign * margin(logits, labels)

        for _ in range(self.binary_search_steps):
            self.minimise(model, x, signed_margin, state)
            state.next_constants()
        return state.best

    def minimise(self, model: Model, x: Tensor, signed_margin: LossFn, state: SearchState) -> None:
        """One round at the constants ``state.c``; calls ``state.record`` on every iterate.

        ``signed_margin(logits)`` is the margin of the label, or minus the margin of the target: it turns
        negative as the attack succeeds. See :meth:`loss` and :meth:`success`.
        """
        raise NotImplementedError

    def loss(self, signed_margin: Tensor) -> Tensor:
        """The margin loss ``max(signed_margin, -confidence)``."""
        return signed_margin.clamp_min(-self.confidence)

    def success(self, signed_margin: Tensor) -> Tensor:
        """Whether the adversarial class wins by more than ``confidence``."""
        return signed_margin < -self.confidence


class EarlyAbort:
    """Abort-early rule of Carlini and Wagner: every ``steps // 10`` steps, stop when the total loss is
    above 0.9999 of its value at the previous check (one host synchronisation per check).

    Args:
        steps: the round's number of steps.
        enabled: ``False`` never stops.
    """

    def __init__(self, steps: int, enabled: bool) -> None:
        self.every = max(steps // 10, 1)
        self.enabled = enabled
        self.previous = float("inf")

    def __call__(self, step: int, total: Tensor) -> bool:
        if not self.enabled or step % self.every:
            return False
        value = total.item()
        if value > self.previous * 0.9999:
            return True
        self.previous = value
        return False
