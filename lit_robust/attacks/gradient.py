"""How attacks differentiate a model: input gradients, and their expectation over a randomised model.

Every lit_robust attack takes its gradients through :func:`input_gradient`, so wrapping the model in
:class:`Expectation` turns any of them into its expectation-over-transformation (EOT) version.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from lit_robust.attacks.base import Model, model_logits
from lit_robust.attacks.majority import vote_shares

LossFn = Callable[[Tensor], Tensor]


class Expectation(nn.Module):
    """A randomised model seen through ``samples`` independent draws (Athalye et al. 2018, EOT).

    :func:`input_gradient` differentiates it as the mean over draws of each draw's loss gradient,
    ``E_s[grad_x L(f_s(x))]``, which is the gradient of the expected loss. It is *not* the gradient of the
    loss at the mean logits, ``grad_x L(E_s[f_s(x)])``: the loss is not linear in the logits, so the two
    differ. The logits :func:`input_gradient` returns for the attack's bookkeeping are the draws' vote
    shares (:func:`~lit_robust.attacks.majority.vote_shares`), so an attack judges success, and picks its
    first successful iterate, by the defense's own prediction, the majority vote of the draws
    (:func:`~lit_robust.attacks.majority.majority_vote`), not by the argmax of the mean logits. Called
    directly, the wrapper returns the mean logits over draws (what target selection and other clean-input
    reads use); a foreign attack that differentiates that call gets the second form of the gradient.

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
    ``(grad, loss, logits)``; for an :class:`Expectation` the gradient and loss are means over its draws
    and the logits are the draws' vote shares, whose argmax is their majority vote.
    """
    x = x.detach().requires_grad_(True)
    if not isinstance(model, Expectation):
        logits = model_logits(model, x)
        loss = loss_fn(logits)
        (grad,) = torch.autograd.grad(loss.sum(), x)
        return grad, loss.detach(), logits.detach()
    grad_sum = torch.zeros_like(x)
    loss_sum = 0.0
    predictions = []
    for _ in range(model.samples):
        logits = model_logits(model.model, x)
        loss = loss_fn(logits)
        grad_sum += torch.autograd.grad(loss.sum(), x)[0]
        loss_sum = loss_sum + loss.detach()
        predictions.append(logits.detach().argmax(dim=1))
    shares = vote_shares(torch.stack(predictions), logits.shape[1]).to(logits.dtype)
    return grad_sum / model.samples, loss_sum / model.samples, shares
