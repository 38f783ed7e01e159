"""Attacking one block of points: the per-point code shared by ``evaluate_robustness`` and the callbacks.

Speed without loss of strength: points the model already misclassifies are not attacked, and over an
ascending epsilon sweep a point broken at a smaller epsilon counts as broken at every larger one (its
adversarial example lies inside the larger ball) and is not attacked again (with ``worst_case_only``,
whichever attack broke it: see :mod:`lit_robust.evaluation.plan`); in white-box evaluation of a
deterministic model, iterative lit_robust attacks stop each point at its first fooling iterate (see
:mod:`lit_robust.evaluation.plan`). Each block is evaluated independently, with the generator of every
attack call seeded from ``(seed, block, attack, eps)``, so the results do not depend on how blocks are
spread over processes.

Randomised defenses (``draws``): a point counts as correctly classified, clean or attacked, only if the
defense's own test-time prediction is right on the majority of ``draws`` fresh draws
(:func:`lit_robust.attacks.majority.majority_vote`), and attacks keep every step (a point that fooled one
draw may not fool the vote).

Every pass through the model (and the source) is counted (:mod:`lit_robust.evaluation.counting`): per
attack, what the attack and the judging of its examples cost; in total, that plus the clean predictions.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, flat_norm
from lit_robust.attacks.majority import majority_vote
from lit_robust.evaluation.counting import PassCounts, counting
from lit_robust.evaluation.focus import closest_points
from lit_robust.evaluation.plan import WORST, AttackFn, Eps, EvaluationPlan, PlannedAttack
from lit_robust.evaluation.records import PointRecords
from lit_robust.evaluation.results import Column, PointResults
from lit_robust.metrics import relative_l2
from lit_robust.validation import check_labels_below, raise_if_shape_error

DRAWS = 5
"""Default draws per majority vote of a randomised model."""


def is_randomized(model: Model, randomized: bool | None = None) -> bool:
    """``randomized`` when given, else the model's ``randomized`` attribute (``False`` without one)."""
    return bool(getattr(model, "randomized", False)) if randomized is None else randomized


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
        draws: ``None`` for a deterministic model; for a randomised one, judge every prediction by the
            majority of this many draws.
    """

    model: Model
    plan: EvaluationPlan
    source: Model | None = None
    seed: int | None = 0
    keep_examples: int = 0
    on_attack: Callable[[str, Eps], None] | None = None
    draws: int | None = None
    examples: dict[str, Tensor] = field(default_factory=dict, init=False)
    """Attack name -> adversarial examples of the last block's first points: the last point each attack
    produced (for a sweep, the example that broke the point or the one at the largest epsilon)."""

    def __post_init__(self) -> None:
        if self.draws is not None and self.draws < 1:
            raise ValueError(f"draws must be >= 1 (or None for a deterministic model), got {self.draws}.")

    def __call__(self, x: Tensor, y: Tensor, block: int = 0) -> PointResults:
        """Evaluates the block ``x, y`` (on the model's device; inference tensors are cloned first)."""
        counts = PassCounts()
        with torch.inference_mode(False), ExitStack() as stack:
            judged = stack.enter_context(counting(self.model, counts))
            attacked = judged
            if self.source is not None and self.source is not self.model:
                attacked = stack.enter_context(counting(self.source, counts))
            run = _Run(self, judged, attacked, counts, block)
            results = run(*(t.clone() if t.is_inference() else t for t in (x, y)))
        results.check(self.plan)
        return results


class _Run:
    """One block's evaluation with counted models."""

    def __init__(
        self, owner: BlockEvaluator, judged: Model, attacked: Model, counts: PassCounts, block: int
    ) -> None:
        self.owner, self.plan = owner, owner.plan
        self.judged, self.attacked, self.counts, self.block = judged, attacked, counts, block
        self.cost = {planned.name: PassCounts() for planned in self.plan.attacks}

    def __call__(self, x: Tensor, y: Tensor) -> PointResults:
        owner = self.owner
        try:
            clean, margin = self._judge(x, y)
        except RuntimeError as error:  # the first forward pass: name a batch the model cannot take
            raise_if_shape_error(error, x)
            raise
        results = PointResults(transfer=owner.source is not None, values={Column("clean_acc"): clean})
        self.records = PointRecords.start(tuple(p.name for p in self.plan.attacks), y, clean, margin)
        owner.examples = {}
        kind = results.kind
        cascade = self._cascade(self.plan.cascade, x, y, clean) if self.plan.cascade else {}
        for planned in self.plan.attacks:
            if planned in self.plan.cascade:
                continue
            if planned.kind == "minimum_norm":
                by_eps = self._minimum_norm(planned, x, y, results)
            else:
                by_eps = self._cascade([planned], x, y, clean)
            results.values.update({Column(kind, planned.name, eps): mask for eps, mask in by_eps.items()})
        for eps in self.plan.grid:
            masks = [results.values.get(Column(kind, p.name, eps)) for p in self.plan.attacks if p.in_worst]
            masks = [m for m in masks if m is not None] + ([cascade[eps]] if eps in cascade else [])
            if masks:
                results.values[Column(kind, WORST, eps)] = torch.stack(masks).all(dim=0)
        self._store_cost(results, x.device)
        results.records = self.records
        return results

    def _cascade(self, attacks: Sequence[PlannedAttack], x: Tensor, y: Tensor, clean: Tensor) -> dict:
        """Robust points by epsilon when, at each epsilon in ascending order, each of ``attacks`` attacks only
        the points that no attack has broken at that or a smaller epsilon (one attack: its sweep)."""
        robust, out = clean.clone(), {}
        for eps in sorted({e for planned in attacks for e in planned.epsilons}):
            for planned in (p for p in attacks if eps in p.epsilons):
                index = robust.nonzero().squeeze(1)
                fraction = getattr(planned.attack, "margin_fraction", None)
                if fraction is not None and planned in self.plan.cascade:
                    index = closest_points(index, self.records.margin, fraction, int(clean.sum()))
                if index.numel():
                    fooled, _ = self._attack(planned, eps, x, y, index)
                    robust[index[fooled]] = False
            out[eps] = robust.clone()
        return out

    def _minimum_norm(self, planned: PlannedAttack, x: Tensor, y: Tensor, results: PointResults) -> dict:
        clean = results.clean
        index = clean.nonzero().squeeze(1)
        distance = torch.where(clean, torch.inf, 0.0).to(x.dtype)
        rho = torch.zeros(len(x), dtype=torch.float64, device=x.device)
        if index.numel():
            fooled, x_adv = self._attack(planned, None, x, y, index)
            hit = index[fooled]
            distance[hit] = flat_norm(x_adv[fooled] - x[hit], planned.norm or self.plan.norm)
            rho[index[~fooled]] = torch.nan
            rho[hit] = relative_l2(x_adv[fooled], x[hit]).double()
        results.distance[planned.name] = distance
        if results.kind == "robust_acc":
            results.values[Column("rho", planned.name)] = rho
        by_eps = {eps: distance > eps for eps in planned.epsilons}
        by_eps[torch.inf] = distance.isinf()
        return by_eps

    def _attack(
        self, planned: PlannedAttack, eps: Eps, x: Tensor, y: Tensor, index: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Attacks the points ``index``; returns which of them the model now misclassifies, and x_adv."""
        owner, start = self.owner, self.counts.snapshot()
        if owner.on_attack is not None:
            owner.on_attack(planned.name, eps)
        attack = planned.at(eps, early_stop=owner.source is None and owner.draws is None)
        x_in, y_in = x[index], y[index]
        with torch.enable_grad():
            x_adv = _call(attack, self.attacked, x_in, y_in, self._generator(planned, eps, x))
        correct, margin = self._judge(x_adv, y_in)
        self._record(planned, eps, index, ~correct, margin, x_adv, x_in)
        self._keep(planned.name, index, x_adv, x)
        spent = self.counts.since(start)
        self.cost[planned.name].forward += spent.forward
        self.cost[planned.name].backward += spent.backward
        return ~correct, x_adv

    def _record(
        self,
        planned: PlannedAttack,
        eps: Eps,
        index: Tensor,
        fooled: Tensor,
        margin: Tensor | None,
        x_adv: Tensor,
        x: Tensor,
    ) -> None:
        """Updates the per-point records with one attack's judged examples (attacks of the grid's norm)."""
        if not planned.in_worst or not self.plan.grid:
            return
        if planned.kind == "minimum_norm":
            distance = flat_norm(x_adv - x, self.plan.norm)  # compared as the robust masks compare it
            grid = torch.tensor(self.plan.grid, dtype=distance.dtype, device=x.device)
            at = torch.searchsorted(grid, distance).clamp(max=len(grid) - 1)
            fooled = fooled & (distance <= grid[-1])
            broken = torch.tensor(self.plan.grid, dtype=torch.float64, device=x.device)[at]
        elif eps is None:
            return
        else:
            broken = torch.full((len(index),), float(eps), dtype=torch.float64, device=x.device)
        self.records.update(index, fooled, broken, planned.name, margin)

    def _judge(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """Whether the model classifies ``x`` correctly, and its margins (``None`` for a randomised model)."""
        with torch.no_grad():
            if self.owner.draws is not None:
                return majority_vote(self.judged, x, self.owner.draws) == y, None
            logits = self.judged(x)
        check_labels_below(y, logits.shape[1])
        true = logits.gather(1, y[:, None]).squeeze(1)
        other = logits.scatter(1, y[:, None], -torch.inf).amax(dim=1)
        return logits.argmax(dim=-1) == y, (true - other).double()

    def _store_cost(self, results: PointResults, device: torch.device) -> None:
        def count(value: int) -> Tensor:
            return torch.tensor(value, dtype=torch.long, device=device)

        results.values[Column("forward_passes")] = count(self.counts.forward)
        results.values[Column("backward_passes")] = count(self.counts.backward)
        for name, spent in self.cost.items():
            results.values[Column("forward_passes", name)] = count(spent.forward)
            results.values[Column("backward_passes", name)] = count(spent.backward)

    def _keep(self, name: str, index: Tensor, x_adv: Tensor, x: Tensor) -> None:
        keep = self.owner.keep_examples
        if keep <= 0:
            return
        kept = self.owner.examples.setdefault(name, x[:keep].clone())
        first = index < keep
        kept[index[first]] = x_adv[first]

    def _generator(self, planned: PlannedAttack, eps: Eps, x: Tensor) -> torch.Generator | None:
        seed = self.owner.seed
        if seed is None or not isinstance(planned.attack, Attack):
            return None
        key = zlib.crc32(f"{seed}/{self.block}/{planned.name}/{eps!r}".encode())
        return torch.Generator(device=x.device).manual_seed(key)


def _call(attack: AttackFn, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
    x_adv = attack(model, x, y, generator=generator) if generator is not None else attack(model, x, y)
    if x_adv.shape != x.shape:
        raise ValueError(
            f"attack {attack!r} returned shape {tuple(x_adv.shape)} for inputs {tuple(x.shape)}."
        )
    return x_adv.detach()
