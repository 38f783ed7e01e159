"""What attacks optimise (per-sample losses of the logits) and when they have succeeded."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor

from lit_robust.attacks.gradient import LossFn

LossName = Literal["ce", "dlr"]


def margin(logits: Tensor, labels: Tensor) -> Tensor:
    """``z_label - max_{k != label} z_k`` per sample: positive when ``labels`` is the predicted class."""
    label_logit = logits.gather(1, labels.unsqueeze(1)).squeeze(1)
    others = logits.scatter(1, labels.unsqueeze(1), float("-inf"))
    return label_logit - others.amax(dim=1)


def dlr(logits: Tensor, labels: Tensor) -> Tensor:
    """Difference of logits ratio (Croce and Hein 2020), untargeted: ``-margin / (z_pi1 - z_pi3)``."""
    _check_classes(logits, 3, "the DLR loss")
    top = logits.topk(3, dim=1).values
    return -margin(logits, labels) / (top[:, 0] - top[:, 2] + 1e-12)


def targeted_dlr(logits: Tensor, source: Tensor, target: Tensor) -> Tensor:
    """Targeted DLR: ``-(z_source - z_target) / (z_pi1 - (z_pi3 + z_pi4) / 2)``."""
    _check_classes(logits, 4, "the targeted DLR loss")
    top = logits.topk(4, dim=1).values
    gap = logits.gather(1, source.unsqueeze(1)) - logits.gather(1, target.unsqueeze(1))
    return -gap.squeeze(1) / (top[:, 0] - (top[:, 2] + top[:, 3]) / 2 + 1e-12)


def ascent_loss(name: LossName, y: Tensor, target: Tensor | None = None) -> LossFn:
    """The per-sample loss an attack *maximises*: away from ``y``, or towards ``target`` when given.

    Targeted cross-entropy is the negative cross-entropy to the target (descending it moves towards the
    target, as in Kurakin et al.'s least-likely-class method); targeted DLR uses ``y`` as the source class.
    """
    if name == "ce":
        if target is None:
            return lambda logits: F.cross_entropy(logits, y, reduction="none")
        return lambda logits: -F.cross_entropy(logits, target, reduction="none")
    if target is None:
        return lambda logits: dlr(logits, y)
    return lambda logits: targeted_dlr(logits, y, target)


def succeeded(logits: Tensor, y: Tensor, target: Tensor | None = None) -> Tensor:
    """Boolean mask: predicted class differs from ``y`` (untargeted) or equals ``target`` (targeted)."""
    prediction = logits.argmax(dim=1)
    return prediction != y if target is None else prediction == target


def _check_classes(logits: Tensor, minimum: int, what: str) -> None:
    if logits.shape[1] < minimum:
        raise ValueError(f"{what} needs at least {minimum} classes, the model returns {logits.shape[1]}.")
