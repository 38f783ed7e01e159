"""Attacking one block of points: the per-point code shared by ``evaluate_robustness`` and the callbacks.

Speed without loss of strength: points the model already misclassifies are not attacked, and over an
ascending epsilon sweep a point broken at a smaller epsilon counts as broken at every larger one (its
adversarial example lies inside the larger ball) and is not attacked again (with ``worst_case_only``,
whichever attack broke it: see :mod:`lit_robust.evaluation.plan`); in white-box evaluation,
iterative lit_robust attacks stop each point at its first fooling iterate (see
:mod:`lit_robust.evaluation.plan`). Each block is evaluated independently, with the generator of every
attack call seeded from ``(seed, block, attack, eps)``, so the results do not depend on how blocks are
spread over processes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, flat_norm
from lit_robust.evaluation.plan import AttackFn, Eps, EvaluationPlan, PlannedAttack
from lit_robust.evaluation.results import PointResults
from lit_robust.metrics import relative_l2


@dataclass
class BlockEvaluator:
    """Runs an :class:`EvaluationPlan` on blocks of points.

    Args:
        model: the evaluated model (logits of [0, 1] images).
        plan: attacks and epsilons.
        source: craft the adversarial examples on this model instead (transfer), judge them on ``model``.
        seed: seed of the generators passed to lit_robust ``Attack`` calls; ``None`` passes none (each attack
            then uses its own ``seed`` or the global RNG).
        keep_examples: keep the adversarial examples of the first this many points of each block.
        on_attack: called with the attack's name and epsilon before each attack call (progress display).
    """

    model: Model
    plan: EvaluationPlan
    source: Model | None = None
    seed: int | None = 0
    keep_examples: int = 0
    on_attack: Callable[[str, Eps], None] | None = None
    examples: dict[str, Tensor] = field(default_factory=dict, init=False)
    """Attack name -> adversarial examples of the last block's first points: the last point each attack
    produced (for a sweep, the example that broke the point or the one at the largest epsilon)."""

    def __call__(self, x: Tensor, y: Tensor, block: int = 0) -> PointResults:
        """Evaluates the block ``x, y`` (on the model's device; inference tensors are cloned first)."""
        with torch.inference_mode(False):
            x, y = (t.clone() if t.is_inference() else t for t in (x, y))
            clean = self._predict(x) == y
            results = PointResults(transfer=self.source is not None, clean=clean)
            self.examples = {}
            cascade = self._cascade(self.plan.cascade, x, y, block, clean) if self.plan.cascade else {}
            for planned in self.plan.attacks:
                if planned in self.plan.cascade:
                    continue
                if planned.kind == "minimum_norm":
                    self._minimum_norm(planned, x, y, block, results)
                else:
                    results.robust[planned.name] = self._cascade([planned], x, y, block, clean)
            for eps in self.plan.grid:
                masks = [
                    results.robust.get(p.name, cascade).get(eps) for p in self.plan.attacks if p.in_worst
                ]
                masks = [m for m in masks if m is not None]
                if masks:
                    results.worst[eps] = torch.stack(masks).all(dim=0)
        return results

    def _cascade(
        self, attacks: Sequence[PlannedAttack], x: Tensor, y: Tensor, block: int, clean: Tensor
    ) -> dict:
        """Robust points by epsilon when, at each epsilon in ascending order, each of ``attacks`` attacks only
        the points that no attack has broken at that or a smaller epsilon (one attack: its sweep)."""
        robust, out = clean.clone(), {}
        for eps in sorted({e for planned in attacks for e in planned.epsilons}):
            for planned in (p for p in attacks if eps in p.epsilons):
                index = robust.nonzero().squeeze(1)
                if index.numel():
                    fooled, _ = self._attack(planned, eps, x, y, index, block)
                    robust[index[fooled]] = False
            out[eps] = robust.clone()
        return out

    def _minimum_norm(
        self, planned: PlannedAttack, x: Tensor, y: Tensor, block: int, results: PointResults
    ) -> None:
        index = results.clean.nonzero().squeeze(1)
        distance = torch.where(results.clean, torch.inf, 0.0).to(x.dtype)
        rho = torch.zeros(len(x), dtype=torch.float64, device=x.device)
        if index.numel():
            fooled, x_adv = self._attack(planned, None, x, y, index, block)
            hit = index[fooled]
            distance[hit] = flat_norm(x_adv[fooled] - x[hit], planned.norm or self.plan.norm)
            rho[index[~fooled]] = torch.nan
            rho[hit] = relative_l2(x_adv[fooled], x[hit]).double()
        by_eps = {eps: distance > eps for eps in planned.epsilons}
        by_eps[torch.inf] = distance.isinf()
        results.robust[planned.name] = by_eps
        results.distance[planned.name] = distance
        if self.source is None:
            results.rho[planned.name] = rho

    def _attack(
        self, planned: PlannedAttack, eps: Eps, x: Tensor, y: Tensor, index: Tensor, block: int
    ) -> tuple[Tensor, Tensor]:
        """Attacks the points ``index``; returns which of them the model now misclassifies, and x_adv."""
        if self.on_attack is not None:
            self.on_attack(planned.name, eps)
        attack = planned.at(eps, early_stop=self.source is None)
        x_in, y_in = x[index], y[index]
        with torch.enable_grad():
            x_adv = _call(attack, self._attacked, x_in, y_in, self._generator(planned, eps, block, x))
        fooled = self._predict(x_adv) != y_in
        self._keep(planned.name, index, x_adv, x)
        return fooled, x_adv

    def _keep(self, name: str, index: Tensor, x_adv: Tensor, x: Tensor) -> None:
        if self.keep_examples <= 0:
            return
        kept = self.examples.setdefault(name, x[: self.keep_examples].clone())
        first = index < self.keep_examples
        kept[index[first]] = x_adv[first]

    def _generator(self, planned: PlannedAttack, eps: Eps, block: int, x: Tensor) -> torch.Generator | None:
        if self.seed is None or not isinstance(planned.attack, Attack):
            return None
        key = zlib.crc32(f"{self.seed}/{block}/{planned.name}/{eps!r}".encode())
        return torch.Generator(device=x.device).manual_seed(key)

    @property
    def _attacked(self) -> Model:
        return self.model if self.source is None else self.source

    def _predict(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return self.model(x).argmax(dim=-1)


def _call(attack: AttackFn, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
    x_adv = attack(model, x, y, generator=generator) if generator is not None else attack(model, x, y)
    if x_adv.shape != x.shape:
        raise ValueError(
            f"attack {attack!r} returned shape {tuple(x_adv.shape)} for inputs {tuple(x.shape)}."
        )
    return x_adv.detach()
