"""`PixelRedrawnCases`: the threat-model cases of Pixel Redrawn (Normal, A-D) at the end of a loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightning as L
import torch
from torch import nn

from lit_robust.callbacks.robustness import RobustnessEvaluation
from lit_robust.defenses.pixel_redrawn import PixelRedrawnClassifier
from lit_robust.evaluation.pixel_redrawn_cases import CASE_NAMES, evaluate_cases
from lit_robust.evaluation.plan import AttackFn


def case_key(case: str) -> str:
    """The logging name of a case: ``"C (paper)"`` -> ``"C_paper"``."""
    return case.replace(" (", "_").rstrip(")")


class PixelRedrawnCases(RobustnessEvaluation):
    """Runs :func:`~lit_robust.evaluation.evaluate_cases` on a fixed subset of the validation or test data.

    The subset and the schedule are :class:`RobustnessEvaluation`'s; the evaluation is the cases'.

    Logs ``{stage}/pr_cases/{case}/{column}`` for every column of each case's report, with ``{case}`` from
    :func:`case_key` (``normal``, ``A``, ``B``, ``C_paper``, ``D_paper``, ``C_adaptive``, ``D_adaptive``)
    and ``{column}`` a :class:`~lit_robust.evaluation.Column` name (``clean_acc``,
    ``robust_acc/fgsm/eps=0.03125``; ``transfer_acc/...`` in cases A and D (paper), whose examples are
    crafted on another model than the judged one). The ``(paper)`` cases are the original code's
    approximation of an attacker who knows PR (the attack starts from ``PR(x)``, outside the threat model);
    the ``(adaptive)`` ones attack through PR with BPDA and EOT and are the honest numbers (see
    :mod:`lit_robust.evaluation.pixel_redrawn_cases`).

    The classifier ``F`` is the module's network without PR (``PixelRedrawnClassifier.classifier``, or the
    whole module for another ``RobustClassifier``: the paper's non-PR model); the redrawer ``PR`` is the
    module's unless ``redrawer`` is given (required for a module without one). Every process evaluates the
    whole subset (the cases are small); the global RNG is restored afterwards, so training is unaffected.

    Args:
        attacks: attacks by name; each case wraps them.
        epsilons: the epsilon grid (``None``: the attacks' own).
        cases: which of :data:`~lit_robust.evaluation.CASE_NAMES` to run.
        redrawer: the PR transformation to use instead of the module's.
        eot_samples: draws of PR averaged per gradient in the adaptive cases.
        num_samples: size of the evaluation subset (the first points of the loader).
        batch_size: points attacked at once.
        every_n_epochs: while fitting, evaluate every this many epochs (validate and test always evaluate).
        seed: seed of the redraws and of the attacks' generators.
    """

    def __init__(
        self,
        attacks: Mapping[str, AttackFn],
        epsilons: Sequence[float] | None = None,
        cases: Sequence[str] = CASE_NAMES,
        redrawer: nn.Module | None = None,
        eot_samples: int = 10,
        num_samples: int = 500,
        batch_size: int = 256,
        every_n_epochs: int = 1,
        seed: int = 0,
    ) -> None:
        unknown = [name for name in cases if name not in CASE_NAMES]
        if unknown or not cases:
            raise ValueError(f"cases must be a non-empty list of {CASE_NAMES}, got {list(cases)}.")
        super().__init__(attacks, epsilons, every_n_epochs=every_n_epochs, num_samples=num_samples,
                         batch_size=batch_size, seed=seed)  # fmt: skip
        self.attacks = dict(attacks)
        self.epsilons = epsilons
        self.cases = list(cases)
        self.redrawer = redrawer
        self.eot_samples = eot_samples
        self.seed = seed

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.redrawer is None and not isinstance(pl_module, PixelRedrawnClassifier):
            raise TypeError(
                f"PixelRedrawnCases needs a redrawer for a {type(pl_module).__name__} (it has no PR): "
                "pass one as `redrawer`."
            )
        if self.redrawer is not None:
            self.redrawer.to(pl_module.device)

    def _evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        is_pr = isinstance(pl_module, PixelRedrawnClassifier)
        classifier = pl_module.classifier if is_pr else pl_module
        redrawer = self.redrawer if self.redrawer is not None else pl_module.redrawer
        with torch.inference_mode(False), torch.random.fork_rng(devices=[]):
            x, y = self.subset.gather()
            reports = evaluate_cases(
                classifier, redrawer, x, y, self.attacks, self.epsilons, self.cases, self.eot_samples,
                self.seed, batch_size=self.batch_size, device=pl_module.device,
            )  # fmt: skip
        values = {
            f"{stage}/pr_cases/{case_key(case)}/{column.name}": value
            for case, report in reports.items()
            for column, value in report.summary.items()
        }
        pl_module.log_dict(values, batch_size=1)
