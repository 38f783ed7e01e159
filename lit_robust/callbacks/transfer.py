"""`TransferEvaluation`: adversarial examples crafted on source models, evaluated on the trained one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from lit_robust.callbacks.robustness import RobustnessEvaluation
from lit_robust.defenses import load_defended_model
from lit_robust.evaluation.engine import BlockEvaluator
from lit_robust.evaluation.plan import AttackFn, Eps, Epsilons
from lit_robust.evaluation.records import PointRecords
from lit_robust.evaluation.results import MEASURES, Kind, PointResults

Source = str | nn.Module


def load_source(path: str | Path) -> nn.Module:
    """A source checkpoint's defended model: :func:`~lit_robust.defenses.load_defended_model` (weights only,
    CPU, eval mode)."""
    return load_defended_model(path)


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"source checkpoint {str(path)!r} does not exist (or is not a file).")
    return path


class TransferEvaluation(RobustnessEvaluation):
    """Black-box transfer evaluation: each attack runs against ``source``, its examples are judged by the
    trained model; logs ``{stage}/transfer_acc/{attack}/eps={eps}`` and ``.../transfer_acc/worst/eps={eps}``.

    With a list of sources (checkpoints of other seeds, or of held-out structures), every attack runs
    against each source and a point counts as robust only if the examples of every source fail on it: the
    per-point worst case over the sources, an attacker who holds all of them.

    Everything else (the subset, the blocks over ranks, the epsilon rules, TensorBoard output) is
    :class:`RobustnessEvaluation`'s, with ``transfer_eval`` in place of ``robust_eval`` in the other names.
    With ``sanity_checks`` the white-box attacks run as well (not logged), to flag transfer examples that
    beat them (a sign of masked white-box gradients); that doubles the cost.

    Args:
        source: a checkpoint path of a ``RobustClassifier`` (its defended model, see :func:`load_source`,
            weights only) or a module (put in eval mode and moved to the trained model's device), or a
            non-empty list of them.
        attacks: attacks by name, run against the source model.
        epsilons: as in :class:`RobustnessEvaluation`.
        **kwargs: the other arguments of :class:`RobustnessEvaluation` (``num_samples``, ``batch_size``,
            ``sanity_checks``: with them the white-box attacks run as well, ``draws``, ...).

    Raises:
        FileNotFoundError: if a source is a path that does not exist.
        ValueError: if ``source`` is an empty list.
    """

    log_group = "transfer_eval"
    accuracy_kind: Kind = "transfer_acc"
    logged_kinds: tuple[Kind, ...] = ("clean_acc", "transfer_acc")

    def __init__(
        self,
        source: Source | Sequence[Source],
        attacks: Mapping[str, AttackFn],
        epsilons: Epsilons = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(attacks, epsilons, **kwargs)
        sources = list(source) if isinstance(source, (list, tuple)) else [source]
        if not sources:
            raise ValueError("TransferEvaluation needs at least one source.")
        self.sources: list[Source] = [s if isinstance(s, nn.Module) else _existing_file(s) for s in sources]

    @property
    def source(self) -> Source:
        """The first source (the only one in the single-source form)."""
        return self.sources[0]

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self.sources = [s if isinstance(s, nn.Module) else load_source(s) for s in self.sources]
        for source in self.sources:
            source.to(pl_module.device).eval()

    def evaluators(self, pl_module: L.LightningModule) -> dict[bool, BlockEvaluator]:
        votes = self.votes(pl_module)
        each = [
            BlockEvaluator(pl_module, self.plan, source=s, seed=self.seed, draws=votes) for s in self.sources
        ]
        transfer = {True: each[0] if len(each) == 1 else WorstOverSources(each)}
        return {**transfer, **super().evaluators(pl_module)} if self.sanity_checks else transfer  # type: ignore[dict-item]


@dataclass
class WorstOverSources:
    """Evaluates a block with each source's evaluator; a point is robust only where it is for every source.

    Args:
        evaluators: one transfer :class:`BlockEvaluator` per source, on the same judged model and plan.
    """

    evaluators: list[BlockEvaluator]

    @property
    def keep_examples(self) -> int:
        return self.evaluators[0].keep_examples

    @keep_examples.setter
    def keep_examples(self, count: int) -> None:
        for evaluator in self.evaluators:
            evaluator.keep_examples = count

    @property
    def on_attack(self) -> Callable[[str, Eps], None] | None:
        return self.evaluators[0].on_attack

    @on_attack.setter
    def on_attack(self, callback: Callable[[str, Eps], None] | None) -> None:
        for evaluator in self.evaluators:
            evaluator.on_attack = callback

    @property
    def examples(self) -> dict[str, Tensor]:
        """The first source's examples."""
        return self.evaluators[0].examples

    def __call__(self, x: Tensor, y: Tensor, block: int = 0) -> PointResults:
        parts = [evaluator(x, y, block) for evaluator in self.evaluators]
        first = parts[0]
        values = {}
        for column in first.values:
            stacked = torch.stack([p.values[column] for p in parts])
            if not MEASURES[column.kind].per_point:
                values[column] = stacked.sum(dim=0)  # pass counts: every source's work
            elif column.kind == "clean_acc":
                values[column] = first.values[column]  # the same judged model on the same points
            else:
                values[column] = stacked.all(dim=0)
        return PointResults(
            transfer=True,
            values=values,
            distance={
                name: torch.stack([p.distance[name] for p in parts]).amin(0) for name in first.distance
            },
            records=_earliest([p.records for p in parts]),
        )


def _earliest(records: list[PointRecords | None]) -> PointRecords | None:
    """Per point, the record of the source that broke it at the smallest epsilon (and the smallest margin)."""
    if any(r is None for r in records):
        return None
    eps = torch.stack([r.eps for r in records])
    source = eps.argmin(dim=0, keepdim=True)
    first = records[0]
    return PointRecords(
        names=first.names,
        label=first.label,
        eps=eps.gather(0, source).squeeze(0),
        attack=torch.stack([r.attack for r in records]).gather(0, source).squeeze(0),
        margin=torch.stack([r.margin for r in records]).amin(dim=0),
    )
