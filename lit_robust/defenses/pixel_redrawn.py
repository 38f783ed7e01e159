"""`PixelRedrawnClassifier`: a classifier that sees Pixel Redrawn images in training, at test time or both."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_robust.attacks.bpda import straight_through
from lit_robust.defenses.phase import Phase, phase_flags
from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput
from lit_robust.models.pixel_redraw import PixelRedrawer


class StraightThroughRedraw(nn.Module):
    """``PR(x)`` forward, the identity backward (:func:`~lit_robust.attacks.straight_through`): the test-time
    transform of a :class:`PixelRedrawnClassifier`'s defended model.

    Args:
        redrawer: the Pixel Redrawn transformation.
    """

    def __init__(self, redrawer: PixelRedrawer) -> None:
        super().__init__()
        self.redrawer = redrawer

    def forward(self, x: Tensor) -> Tensor:
        return straight_through(x, self.redrawer)


class PixelRedrawnClassifier(RobustClassifier):
    """The Pixel Redrawn defense: a :class:`~lit_robust.models.PixelRedrawer` in front of the classifier.

    The paper's phases (Table 1) are configurations: no PR is a plain
    :class:`~lit_robust.defenses.RobustClassifier`; PR in training, in testing or in both phases is this
    class with ``phase`` ``"train"``, ``"test"`` or ``"both"``. All four see each training image once an
    epoch, so they take the same optimisation steps. With PR at test time the model is random: evaluate it
    with every attack, C&W included, wrapped in :class:`~lit_robust.attacks.EOT`, as the configs do.

    Training images are redrawn on the fly, afresh for every batch (as the original code redraws every
    epoch), unless ``redraw_training_batches`` is off because they come redrawn already from
    :class:`~lit_robust.data.PixelRedrawn` (precomputed and cached: faster, a fixed set of redraws).

    At test time (``"test"`` or ``"both"``) the defended model's transform (``model.transform``, a
    :class:`StraightThroughRedraw`) redraws, so :meth:`forward`, and so predictions, validation and every
    attack on this module, computes ``F(PR(x))`` with a fresh redraw at each call. Its backward pass is the
    straight-through estimator (:func:`~lit_robust.attacks.straight_through`, BPDA with the identity):
    PR itself has no useful gradient (an argmax and a random draw), so an attacker who knows PR attacks
    through it this way; wrap the attacks in :class:`~lit_robust.attacks.EOT` for the random draw. The
    threat-model cases of the paper (A-D) are in :mod:`lit_robust.evaluation.pixel_redrawn_cases`.

    Args:
        backbone: the network mapping normalised images to logits.
        redrawer: the Pixel Redrawn transformation (its PR models are buffers, never trained here).
        phase: where PR is applied: ``"train"``, ``"test"`` or ``"both"``.
        redraw_training_batches: redraw training batches on the fly when PR is on in training; turn off
            when the datamodule is :class:`~lit_robust.data.PixelRedrawn`.
        **kwargs: the arguments of :class:`~lit_robust.defenses.RobustClassifier`.
    """

    def __init__(
        self,
        backbone: nn.Module,
        redrawer: PixelRedrawer,
        phase: Phase = "both",
        redraw_training_batches: bool = True,
        **kwargs: Any,
    ) -> None:
        train_redraw, test_redraw = phase_flags(phase)
        super().__init__(backbone, **kwargs)
        if test_redraw:
            self.model.transform = StraightThroughRedraw(redrawer)
        else:  # a training-time step only, outside the defended model
            self.train_redrawer = redrawer
        self.train_redraw = train_redraw and redraw_training_batches
        self.test_redraw = test_redraw

    @property
    def redrawer(self) -> PixelRedrawer:
        """PR itself: ``model.transform.redrawer`` with PR at test time, else ``train_redrawer``."""
        return self.model.transform.redrawer if self.test_redraw else self.train_redrawer

    def legacy_key_prefixes(self) -> dict[str, str]:
        """The earlier layout also held the redrawer at ``redrawer.*``."""
        redrawer = "model.transform.redrawer." if self.test_redraw else "train_redrawer."
        return {**super().legacy_key_prefixes(), "redrawer.": redrawer}

    @property
    def randomized(self) -> bool:
        """Whether the test-time prediction is random (PR at test time): evaluation then judges it by a
        majority of draws (:mod:`lit_robust.evaluation.engine`)."""
        return self.test_redraw

    def classifier(self, x: Tensor) -> Tensor:
        """Logits of the network alone, ``F(x)``: no redraw."""
        return self.model.network(x)

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        """Cross-entropy on the redrawn batch (on the batch as given when PR is off in training)."""
        logits = self.classifier(self.redrawer(x) if self.train_redraw else x)
        return TrainingOutput(self.classification_loss(logits, y), logits)
