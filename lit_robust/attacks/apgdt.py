"""APGD-T (Croce and Hein 2020): targeted APGD on the DLR loss against each of the top-k other classes."""

from __future__ import annotations

from typing import Any, Literal, get_args

import torch
from torch import Tensor

from lit_robust.attacks.apgd import APGD
from lit_robust.attacks.base import Model, check_choice, check_positive, model_logits
from lit_robust.attacks.iterative import StepNorm
from lit_robust.attacks.linear import nearest_classes, other_classes
from lit_robust.attacks.per_point import best_of_restarts

Ranking = Literal["logit", "linear"]


class APGDT(APGD):
    """APGD with the targeted DLR loss, run once per target class, as in AutoAttack.

    The targets are the classes ranked 2nd, 3rd, ..., ``num_target_classes + 1``-th by the clean logits
    (at most all other classes): AutoAttack's rule, ``ranking="logit"``. ``ranking="linear"`` (not in
    AutoAttack; after MALT, Melamed et al. 2024) orders the other classes by the distance, in the threat
    model's norm, from the clean image to their linearised boundary with the predicted class (one batched
    gradient per point, :func:`~lit_robust.attacks.linear.nearest_classes`), nearest first.
    ``skip_targets`` leaves out the first classes of the ranking (a cascade whose earlier attack took them).
    For each target in that order, and each restart, APGD with the targeted
    DLR loss ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)`` runs on the points no earlier run has broken;
    a point counts as broken on *any* misclassification (not only when it reaches the target), so a point
    broken by one target is not attacked further. This follows the paper and the authors' code, which
    agree here; the step-size schedule is :class:`APGD`'s (the authors' code by default, ``schedule``).
    Points never broken return their highest-loss iterate (the authors' code returns them unchanged; both
    are correctly classified).

    Args:
        eps: radius of the norm ball (pixel space).
        norm: ``"Linf"`` or ``"L2"``.
        num_target_classes: how many classes of the ranking are attacked (AutoAttack: 9).
        ranking: ``"logit"`` (AutoAttack) or ``"linear"``, see above.
        skip_targets: how many classes at the top of the ranking are not attacked.
        seed: seed of the attack's generator (random starts).
        **kwargs: the other arguments of :class:`APGD`: ``steps`` per run, ``restarts`` per target class,
            ``rho``, ``early_stop`` (a point leaves the batch at its first misclassified iterate),
            ``schedule`` and ``l2_start``; APGDT fixes the loss and chooses its own targets.
    """

    def __init__(
        self,
        eps: float,
        norm: StepNorm = "Linf",
        *,
        num_target_classes: int = 9,
        ranking: Ranking = "logit",
        skip_targets: int = 0,
        seed: int | None = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(eps, norm, loss="dlr", targeted=False, target="least_likely", seed=seed, **kwargs)
        check_positive("num_target_classes", num_target_classes)
        check_choice("ranking", ranking, get_args(Ranking))
        if skip_targets < 0:
            raise ValueError(f"skip_targets must be >= 0, got {skip_targets}.")
        self.num_target_classes = num_target_classes
        self.ranking = ranking
        self.skip_targets = skip_targets

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        ranked = self.ranked_targets(model, x)
        count = ranked.shape[1]
        runs = iter([(rank, restart) for rank in range(count) for restart in range(self.restarts)])

        def run(index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
            rank, _ = next(runs)
            target = ranked[index, rank]
            return self.run_once(model, x[index], y[index], y[index], target, None, generator)

        return best_of_restarts(x, count * self.restarts, run)

    def ranked_targets(self, model: Model, x: Tensor) -> Tensor:
        """The attacked classes per point, in the order attacked, shape ``(batch, count)``."""
        with torch.no_grad():
            logits = model_logits(model, x)
        if self.ranking == "logit":
            ranked = other_classes(logits, logits.argmax(dim=1))  # 2nd, 3rd, ...
        else:
            ranked = nearest_classes(model, x, logits, self.norm)
        if self.skip_targets >= ranked.shape[1]:
            raise ValueError(f"skip_targets={self.skip_targets} leaves none of {ranked.shape[1]} classes.")
        return ranked[:, self.skip_targets : self.skip_targets + self.num_target_classes]
