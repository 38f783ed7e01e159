"""`AdversarialDefense`: the base of defenses that craft training examples against the model they train."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from torch import Tensor, nn

from lit_robust.defenses.attack_mode import AttackMode, check_attack_mode, module_mode
from lit_robust.defenses.robust_classifier import RobustClassifier
from lit_robust.losses import TripletRegularizer


class AdversarialDefense(RobustClassifier):
    """A :class:`RobustClassifier` whose training loss crafts examples against the current model: the one
    place that holds the train/eval mode they are crafted in (``attack_mode``).

    A subclass crafts with :meth:`craft` (an attack called on the model in ``attack_mode``) or runs any
    other block against the model in that mode inside :meth:`in_attack_mode`; the modes are restored
    afterwards (:func:`~lit_robust.defenses.attack_mode.module_mode`). :meth:`add_triplet` adds an optional
    AT2L triplet term (:class:`~lit_robust.losses.TripletRegularizer`) to a loss.

    Args:
        backbone: the network mapping normalised images to logits.
        attack_mode: craft with the model in ``"eval"`` (no dropout, batch-norm running statistics: the
            deterministic model being defended) or ``"train"`` mode (batch statistics, dropout; the running
            statistics are left untouched).
        **kwargs: the :class:`RobustClassifier` arguments (optimizer, num_classes, ...).
    """

    def __init__(self, backbone: nn.Module, attack_mode: AttackMode = "eval", **kwargs: Any) -> None:
        check_attack_mode(attack_mode)
        super().__init__(backbone, **kwargs)
        self.attack_mode: AttackMode = attack_mode

    def in_attack_mode(self) -> AbstractContextManager[None]:
        """A block in which the module is in ``attack_mode`` (every submodule's mode restored after it)."""
        return module_mode(self, self.attack_mode)

    def craft(self, attack: Any, x: Tensor, y: Tensor, *args: Any) -> Tensor:
        """``attack(self, x, y, *args)`` with the module in ``attack_mode``."""
        with self.in_attack_mode():
            return attack(self, x, y, *args)

    def add_triplet(
        self,
        loss: Tensor,
        triplet: TripletRegularizer | None,
        adv_logits: Tensor,
        clean_logits: Tensor,
        y: Tensor,
    ) -> Tensor:
        """``loss`` plus the triplet term on ``(adv_logits, clean_logits)`` (logged as ``train/triplet``), or
        ``loss`` itself when ``triplet`` is ``None``."""
        if triplet is None:
            return loss
        term = triplet(adv_logits, clean_logits, y)
        self.log_terms({"triplet": term}, len(y))
        return loss + term
