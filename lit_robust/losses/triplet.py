"""The AT2L triplet regularisation (Li et al. 2019, Sec. 3.4) and its negative selection.

A triplet is (anchor, positive, negative) = (adversarial example, its clean example, an example of the
class the adversarial example is predicted as), compared through the logits ``f`` (the output of the
last fully connected layer) with the L-infinity distance by default.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_robust.attacks.base import Norm, check_choice, flat_norm


def triplet_regularization(
    anchor_logits: Tensor,
    positive_logits: Tensor,
    negative_logits: Tensor,
    alpha: float = 1.0,
    norm: Norm = "Linf",
    mask: Tensor | None = None,
) -> Tensor:
    """``(1/k) sum max(||f(a) - f(p)|| - ||f(a) - f(n)|| + alpha, 0)`` over the ``k`` triplets of a batch.

    Args:
        anchor_logits: logits of the anchors (AT2L: the adversarial examples), shape ``(k, classes)``.
        positive_logits: logits of the positives (AT2L: the clean examples).
        negative_logits: logits of the negatives (AT2L: see :func:`select_negatives`).
        alpha: the margin.
        norm: the distance between logit vectors (the paper uses ``"Linf"``).
        mask: boolean ``(k,)``; triplets where it is false contribute zero but still count in ``k``.
    """
    positive_distance = flat_norm(anchor_logits - positive_logits, norm)
    negative_distance = flat_norm(anchor_logits - negative_logits, norm)
    hinge = (positive_distance - negative_distance + alpha).clamp_min(0.0)
    if mask is not None:
        hinge = hinge * mask.to(hinge.dtype)
    return hinge.mean()


def select_negatives(
    labels: Tensor, predicted: Tensor, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """For each example, the batch index of a negative: uniformly among the examples labelled
    ``predicted[i]`` (the class its adversarial example is classified as), or, when that class is the true
    label (the attack failed) or absent from the batch, among all examples with another label.

    The paper (Eq. 2) samples the negative from the adversarial example's predicted class; its Algorithm 2
    only asks for a different label, which is the fallback here.

    Args:
        labels: true labels of the batch, shape ``(k,)``.
        predicted: class each adversarial example is predicted as, shape ``(k,)``.
        generator: source of the uniform choice.

    Returns:
        ``(index, valid)``: negative indices into the batch, and a mask that is false where the batch has
        no example of another label (the index then points at the example itself and must be ignored).
    """
    other = labels.unsqueeze(0) != labels.unsqueeze(1)  # other[i, j]: labels[j] != labels[i]
    preferred = other & (labels.unsqueeze(0) == predicted.unsqueeze(1))
    candidates = torch.where(preferred.any(dim=1, keepdim=True), preferred, other)
    scores = torch.rand(candidates.shape, generator=generator, device=labels.device)
    index = scores.masked_fill(~candidates, -1.0).argmax(dim=1)
    valid = candidates.any(dim=1)
    index = torch.where(valid, index, torch.arange(len(labels), device=labels.device))
    return index, valid


class TripletRegularizer:
    """The AT2L triplet term for any defense that has adversarial and clean logits of a batch:
    ``weight * triplet_regularization(f(x_adv), f(x), f(x_neg), alpha, norm)``, negatives chosen by
    :func:`select_negatives` from the batch itself.

    Args:
        weight: lambda (lambda2 in the paper's Eq. 2); the paper uses 1.0.
        alpha: the margin; the paper uses 1.0 (stable for 0.1 to 2.0).
        norm: the distance between logit vectors; the paper uses ``"Linf"``.
    """

    def __init__(self, weight: float = 1.0, alpha: float = 1.0, norm: Norm = "Linf") -> None:
        if weight < 0 or alpha < 0:
            raise ValueError(f"TripletRegularizer: weight and alpha must be >= 0, got {weight} and {alpha}.")
        check_choice("norm", norm, ("Linf", "L2", "L1"))
        self.weight = weight
        self.alpha = alpha
        self.norm: Norm = norm

    def __call__(self, adv_logits: Tensor, clean_logits: Tensor, labels: Tensor) -> Tensor:
        """The weighted term; gradients flow through all three logit sets."""
        index, valid = select_negatives(labels, adv_logits.detach().argmax(dim=1))
        negative_logits = clean_logits[index]
        term = triplet_regularization(adv_logits, clean_logits, negative_logits, self.alpha, self.norm, valid)
        return self.weight * term

    def __repr__(self) -> str:
        return f"TripletRegularizer(weight={self.weight}, alpha={self.alpha}, norm={self.norm!r})"
