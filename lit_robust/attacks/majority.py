"""The prediction of a randomised defense: the class most of its fresh forward passes predict."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_robust.attacks.base import Model, check_positive, model_logits


def vote_shares(predictions: Tensor, num_classes: int) -> Tensor:
    """Fraction of draws voting for each class, shape ``(batch, num_classes)``.

    Args:
        predictions: predicted labels of each draw, shape ``(draws, batch)``.
        num_classes: number of classes.
    """
    draws, batch = predictions.shape
    counts = torch.zeros(batch, num_classes, device=predictions.device)
    counts.scatter_add_(1, predictions.t(), torch.ones(batch, draws, device=predictions.device))
    return counts / draws


def plurality(shares: Tensor) -> Tensor:
    """The class with the most votes per row of ``shares``; a tie goes to the lowest class index."""
    return shares.argmax(dim=1)  # argmax returns the first of equal maxima


def majority_vote(model: Model, x: Tensor, draws: int) -> Tensor:
    """The label a randomised defense predicts for ``x``: the plurality of ``draws`` fresh forward passes.

    Each pass is an independent draw of the model's randomness (a new sub-network, noise, redraw); the label
    is the class predicted by the most draws (the majority when one exists), and a tie between classes goes
    to the lowest class index, so the result depends only on the draws' votes. With ``draws=1`` this is the
    argmax of a single pass, and for a deterministic model it is its ordinary prediction. Runs without
    gradients; the model's train/eval mode is the caller's.

    Args:
        model: any callable returning logits.
        x: the batch.
        draws: number of forward passes (at least 1).

    Returns:
        The predicted labels, shape ``(batch,)``, dtype ``long``.
    """
    check_positive("draws", draws)
    with torch.no_grad():
        logits = [model_logits(model, x) for _ in range(int(draws))]
    predictions = torch.stack([z.argmax(dim=1) for z in logits])
    return plurality(vote_shares(predictions, logits[0].shape[1]))
