"""Backward-pass differentiable approximation (BPDA, Athalye et al. 2018) as a model wrapper.

``BPDA(model, preprocess)`` computes ``model(preprocess(x))`` exactly in the forward pass, so predictions
and robust accuracy are those of the real defended pipeline, while gradients flow through
``approximation`` instead of the non-differentiable ``preprocess`` (straight-through: the identity by
default). Any attack, and :class:`~lit_robust.attacks.eot.EOT` around it, attacks the wrapper like any
other model. In YAML it takes the place of the defended model (for example a defense's backbone);
``preprocess`` and ``approximation`` are modules (``class_path``) or import paths of functions annotated
``(Tensor) -> Tensor``::

    backbone:
      class_path: lit_robust.attacks.BPDA
      init_args:
        model: {class_path: lit_robust.models.PRBasicCNN}
        preprocess: {class_path: my_project.Quantize, init_args: {levels: 4}}
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

Transform = nn.Module | Callable[[Tensor], Tensor]


def straight_through(x: Tensor, preprocess: Transform, approximation: Transform | None = None) -> Tensor:
    """``approx(x) + (preprocess(x) - approx(x)).detach()``: the value of ``preprocess(x)`` (up to float
    rounding) with the gradient of ``approximation`` (the identity when ``None``)."""
    approx = x if approximation is None else approximation(x)
    with torch.no_grad():
        exact = preprocess(x)
    return approx + (exact - approx).detach()


class BPDA(nn.Module):
    """``model(preprocess(x))`` whose backward pass replaces ``preprocess`` by ``approximation``.

    Args:
        model: the classifier that follows the preprocessing.
        preprocess: the (possibly non-differentiable, possibly random) input transformation.
        approximation: a differentiable stand-in for ``preprocess`` in the backward pass; ``None`` for the
            identity.
    """

    def __init__(
        self, model: nn.Module, preprocess: Transform, approximation: Transform | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.preprocess = preprocess
        self.approximation = approximation

    def forward(self, x: Tensor) -> Tensor:
        return self.model(straight_through(x, self.preprocess, self.approximation))
