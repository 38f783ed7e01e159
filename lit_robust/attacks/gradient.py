"""How attacks differentiate a model: input gradients, and their expectation over a randomised model.

Every lit_robust attack takes its gradients through :func:`input_gradient`, so wrapping the model in
:class:`Expectation` turns any of them into its expectation-over-transformation (EOT) version.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from lit_robust.attacks.base import Model, model_logits

LossFn = Callable[[Tensor], Tensor]


class Expectation(nn.Module):
    """A randomised model seen through ``samples`` independent draws (Athalye et al. 2018, EOT).

    :func:`input_gradient` differentiates it as the mean over draws of each draw's loss gradient,
    ``E_s[grad_x L(f_s(x))]``, which is the gradient of the expected loss. It is *not* the gradient of the
    loss at the mean logits, ``grad_x L(E_s[f_s(x)])``: the loss is not linear in the logits, so the two
    differ. Called directly, the wrapper returns the mean logits over draws (its prediction and the values
    attacks use for bookkeeping); a foreign attack that differentiates that call gets the second form.

    The model is called once per draw, so models that draw their randomness once per call (one sampled
    sub-network per forward pass) are averaged correctly too.

    Args:
        model: the randomised model (any callable returning logits).
        samples: number of draws averaged per evaluation.
    """

    def __init__(self, model: Model, samples: int) -> None:
        super().__init__()
        if samples < 1:
            raise ValueError(f"Expectation: samples must be >= 1, got {samples}.")
        self.model = model
        self.samples = samples

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([model_logits(self.model, x) for _ in range(self.samples)]).mean(dim=0)


def input_gradient(model: Model, x: Tensor, loss_fn: LossFn) -> tuple[Tensor, Tensor, Tensor]:
    """Gradient of ``loss_fn(model(x)).sum()`` with respect to ``x`` only.

    ``loss_fn`` maps logits to a per-sample loss of shape ``(batch,)``. Returns the detached
    ``(grad, loss, logits)``; for an :class:`Expectation` all three are means over its draws.
    """
    x = x.detach().requires_grad_(True)
    if not isinstance(model, Expectation):
        logits = model_logits(model, x)
        loss = loss_fn(logits)
        (grad,) = torch.autograd.grad(loss.sum(), x)
        return grad, loss.detach(), logits.detach()
    grad_sum = torch.zeros_like(x)
    loss_sum = logits_sum = None
    for _ in range(model.samples):
        logits = model_logits(model.model, x)
        loss = loss_fn(logits)
        grad_sum += torch.autograd.grad(loss.sum(), x)[0]
        loss_sum = loss.detach() if loss_sum is None else loss_sum + loss.detach()
        logits_sum = logits.detach() if logits_sum is None else logits_sum + logits.detach()
    return grad_sum / model.samples, loss_sum / model.samples, logits_sum / model.samples
