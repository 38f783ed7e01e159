"""Training the PR models: one-input perceptrons that tell which colour range a pixel value belongs to.

A PR model has one input (a pixel value ``x`` in [0, 1]) and ``k`` outputs, logits ``x * W + b``, trained as
in the original code: softmax cross-entropy, plain SGD with learning rate 0.1, each step on 100 fresh values
drawn from U[0, 1), each labelled with a range that contains it (chosen uniformly where ranges overlap).
``d`` models are trained together, each for its own number of steps: a model stopped early is "partially
converged" and sends some pixels to a wrong range, which the paper wants.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_robust.models.pixel_redraw.ranges import containing


def train_pr_models(
    ranges: Tensor,
    steps: Tensor,
    weight: Tensor,
    bias: Tensor,
    generator: torch.Generator,
    lr: float = 0.1,
    batch_size: int = 100,
) -> tuple[Tensor, Tensor]:
    """Trains ``d`` PR models at once by SGD on the mean softmax cross-entropy (exact gradients, no autograd).

    Args:
        ranges: ``(k, 2)`` colour ranges.
        steps: ``(d,)`` number of SGD steps of each model.
        weight: ``(d, k)`` initial weights (not modified).
        bias: ``(d, k)`` initial biases (not modified).
        generator: source of the training values and of the labels of values in overlapping ranges.
        lr: SGD learning rate.
        batch_size: fresh values per step.

    Returns:
        The trained ``(weight, bias)``.
    """
    weight, bias = weight.clone(), bias.clone()
    models, k = weight.shape
    for step in range(int(steps.max().item()) if len(steps) else 0):
        active = (steps > step).to(weight.dtype).unsqueeze(1)
        values = torch.rand(models, batch_size, generator=generator)
        labels = _random_containing_range(values, ranges, generator)
        logits = values.unsqueeze(-1) * weight.unsqueeze(1) + bias.unsqueeze(1)
        error = logits.softmax(dim=-1) - torch.nn.functional.one_hot(labels, k).to(logits.dtype)
        weight -= lr * active * (values.unsqueeze(-1) * error).mean(dim=1)
        bias -= lr * active * error.mean(dim=1)
    return weight, bias


def _random_containing_range(values: Tensor, ranges: Tensor, generator: torch.Generator) -> Tensor:
    """A range containing each value, uniformly among those that do."""
    scores = torch.rand((*values.shape, len(ranges)), generator=generator)
    return scores.masked_fill_(~containing(values, ranges), -1.0).argmax(dim=-1)


def predict_range(values: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """The range index ``argmax(x * W + b)`` of each value under one model (``weight``, ``bias``: ``(..., k)``
    broadcasting against ``values.unsqueeze(-1)``)."""
    return (values.unsqueeze(-1) * weight + bias).argmax(dim=-1)


def range_accuracy(weight: Tensor, bias: Tensor, ranges: Tensor, points: int = 10001) -> Tensor:
    """``(d,)``: fraction of an even grid over [0, 1] that each model sends to a range containing it."""
    values = torch.linspace(0, 1, points)
    inside = containing(values, ranges)  # (points, k)
    predicted = predict_range(values.unsqueeze(0), weight.unsqueeze(1), bias.unsqueeze(1))  # (d, points)
    return inside.gather(1, predicted.T).float().mean(dim=0)
