"""Linearised decision boundaries (DeepFool's view of a classifier), with batched per-class gradients."""

from __future__ import annotations

from torch import Tensor

from lit_robust.attacks.base import Model, Norm
from lit_robust.attacks.gradient import input_gradient

DUAL_ORDER = {"Linf": 1.0, "L2": 2.0, "L1": float("inf")}
"""Order ``q`` of each norm's dual: the distance in that norm to the hyperplane ``f + w.d = 0`` is
``|f| / ||w||_q``."""


def other_classes(logits: Tensor, source: Tensor, count: int | None = None) -> Tensor:
    """The ``count`` highest-scoring classes other than ``source`` per sample (all others when ``None``).

    Returns class indices of shape ``(batch, count)``, best first.
    """
    num_others = logits.shape[1] - 1
    count = num_others if count is None else min(count, num_others)
    masked = logits.scatter(1, source.unsqueeze(1), float("-inf"))
    return masked.topk(count, dim=1).indices


def boundaries(model: Model, x: Tensor, source: Tensor, candidates: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Logit gaps ``f_k = z_k - z_source`` and their input gradients ``w_k`` for each candidate class ``k``.

    All ``candidates.shape[1]`` gradients of a sample come from one forward and one backward pass over a
    batch that repeats the sample once per candidate (exact repetition leaves batch statistics unchanged).
    Returns ``f`` of shape ``(batch, C)``, ``w`` of shape ``(batch, C, *x.shape[1:])`` and the logits at
    ``x``, shape ``(batch, classes)``.
    """
    batch, count = candidates.shape
    flat_candidates = candidates.reshape(-1, 1)
    flat_source = source.repeat_interleave(count).unsqueeze(1)

    def gap(logits: Tensor) -> Tensor:
        return (logits.gather(1, flat_candidates) - logits.gather(1, flat_source)).squeeze(1)

    grad, f, logits = input_gradient(model, x.repeat_interleave(count, dim=0), gap)
    return (
        f.view(batch, count),
        grad.view(batch, count, *x.shape[1:]),
        logits.view(batch, count, logits.shape[1])[:, 0],
    )


def distances(f: Tensor, w: Tensor, norm: Norm = "L2") -> Tensor:
    """Distances in ``norm`` to the linearised boundaries, ``|f_k| / ||w_k||_q`` with ``q`` the dual order."""
    return f.abs() / w.flatten(2).norm(p=DUAL_ORDER[norm], dim=2).clamp_min(1e-12)


def closest(f: Tensor, w: Tensor) -> Tensor:
    """Index (into the candidates) of the nearest linearised boundary in L2, ``argmin_k |f_k| / ||w_k||``."""
    return distances(f, w).argmin(dim=1)


def closest_class(model: Model, x: Tensor, logits: Tensor) -> Tensor:
    """The class with the closest linearised boundary to the predicted class (the DeepFool rule).

    ``argmin_{k != pred} |z_k - z_pred| / ||grad z_k - grad z_pred||`` with input gradients; ``logits``
    are the model's logits at ``x``.
    """
    prediction = logits.argmax(dim=1)
    candidates = other_classes(logits, prediction)
    f, w, _ = boundaries(model, x, prediction, candidates)
    return candidates.gather(1, closest(f, w).unsqueeze(1)).squeeze(1)


def nearest_classes(model: Model, x: Tensor, logits: Tensor, norm: Norm) -> Tensor:
    """All classes but the predicted one, ordered by the distance in ``norm`` to their linearised boundary
    with the predicted class, nearest first (MALT's targeting, Melamed et al. 2024); shape ``(batch, C - 1)``.

    One forward and one backward pass over ``C - 1`` copies of each sample (see :func:`boundaries`).
    """
    prediction = logits.argmax(dim=1)
    candidates = other_classes(logits, prediction)
    f, w, _ = boundaries(model, x, prediction, candidates)
    return candidates.gather(1, distances(f, w, norm).argsort(dim=1))
