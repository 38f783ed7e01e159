"""The attack contract shared by every lit_robust attack.

``x_adv = attack(model, x, y)``: ``model`` is any callable returning logits, ``x`` is a batch in [0, 1].
The result is detached, has x's shape, dtype and device, and lies inside the threat model (the norm ball
of radius ``eps`` around ``x`` where the attack is bounded, and the [0, 1] box). Gradients are taken only
with respect to the input, so parameters' ``.grad`` stay untouched. Randomness comes from an explicit
``torch.Generator`` when one is given (or from ``seed``).

The model is left as it was found: the attack runs it in the mode it was handed (a defense that crafts with
train-mode batch norm gets batch statistics and dropout, as it chose; see
:mod:`lit_robust.defenses.attack_mode`), and afterwards its train/eval flags and every buffer (batch norm
running statistics) are restored. With a generator, dropout draws from the global RNG forked and seeded
from that generator, so a seeded attack is repeatable in train mode too and the global random stream is
unchanged (:func:`lit_robust.model_state.preserved_state`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch import Tensor

from lit_robust.model_state import preserved_state
from lit_robust.validation import (
    check_batch,
    check_labels_below,
    check_logits,
    check_number,
    raise_if_shape_error,
)

Model = Callable[[Tensor], Tensor]
Norm = Literal["Linf", "L2", "L1"]


def flat_norm(v: Tensor, norm: Norm) -> Tensor:
    """Per-sample norm of a batch, shape ``(batch,)``."""
    flat = v.flatten(1)
    if norm == "Linf":
        return flat.abs().amax(dim=1)
    if norm == "L2":
        return flat.norm(p=2, dim=1)
    return flat.abs().sum(dim=1)


def model_logits(model: Model, x: Tensor) -> Tensor:
    """``model(x)`` in at least ``x``'s precision.

    Under mixed precision (``torch.autocast``, Lightning's ``bf16-mixed`` / ``16-mixed``) the model's layers
    may compute in half precision and return bf16 or fp16 logits; attacks compare and differentiate losses
    of the logits, so they are cast up to ``x``'s dtype (float32) first. The cast is part of the graph: the
    input gradient flows through it and comes back in ``x``'s dtype, and every perturbation, step, projection
    and clip stays in that precision, so the threat model holds exactly as without autocast.
    """
    logits = model(x)
    return logits.to(torch.promote_types(logits.dtype, x.dtype))


def per_sample(values: Tensor, like: Tensor) -> Tensor:
    """Reshapes per-sample ``values`` of shape ``(batch,)`` to broadcast against ``like``."""
    return values.view(-1, *([1] * (like.dim() - 1)))


def clip_norm(v: Tensor, max_norm: float | None) -> Tensor:
    """Scales each sample of ``v`` down to an L2 norm of at most ``max_norm`` (``None``: unchanged)."""
    if max_norm is None:
        return v
    return v * per_sample((max_norm / flat_norm(v, "L2").clamp_min(1e-12)).clamp(max=1.0), v)


def project(x_adv: Tensor, x: Tensor, eps: float | None, norm: Norm) -> Tensor:
    """Projects ``x_adv`` onto the ``eps``-ball around ``x`` (``norm``) intersected with the [0, 1] box.

    The L2 and L1 projections are done before the box clip, which keeps the result inside both sets because
    clipping towards ``x``'s box never increases the distance to ``x``. The L1 ball uses the exact sorting
    projection (Duchi et al. 2008).
    """
    if eps is not None:
        delta = x_adv - x
        if norm == "Linf":
            delta = delta.clamp(-eps, eps)
        elif norm == "L2":
            delta = clip_norm(delta, eps)
        else:
            delta = _project_l1(delta, eps)
        x_adv = x + delta
    return x_adv.clamp(0.0, 1.0)


def _project_l1(delta: Tensor, eps: float) -> Tensor:
    flat = delta.flatten(1)
    inside = flat.abs().sum(dim=1) <= eps
    sorted_abs = flat.abs().sort(dim=1, descending=True).values
    cumsum = sorted_abs.cumsum(dim=1)
    ranks = torch.arange(1, flat.shape[1] + 1, device=flat.device, dtype=flat.dtype)
    condition = sorted_abs - (cumsum - eps) / ranks > 0
    rho = condition.to(flat.dtype).cumsum(dim=1).argmax(dim=1, keepdim=True)
    theta = ((cumsum.gather(1, rho) - eps) / (rho + 1).to(flat.dtype)).clamp_min(0)
    projected = flat.sign() * (flat.abs() - theta).clamp_min(0)
    return torch.where(inside.unsqueeze(1), flat, projected).view_as(delta)


def check_choice(name: str, value: object, choices: Iterable[object]) -> None:
    """Raises a ``ValueError`` naming the allowed values when ``value`` is not one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")


def check_positive(name: str, value: float | None, allow_none: bool = False) -> None:
    """Raises a ``ValueError`` unless ``value`` is > 0 (or ``None`` where that is allowed)."""
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")


class Attack:
    """Base class: input checking, inference-mode escape, mode restoration and the final projection.

    Subclasses implement :meth:`perturb` and set ``norm``; minimum-norm attacks (DeepFool, C&W, ...) set
    ``minimum_norm = True`` and keep ``eps = None``. Any plain callable ``(model, x, y) -> x_adv`` is
    accepted wherever lit_robust takes an attack; this class only adds the guarantees.

    Args:
        eps: radius of the threat model's norm ball in pixel space ([0, 1] images); ``None`` for unbounded.
        seed: seeds a fresh ``torch.Generator`` on every call when no generator is passed, so the attack is
            deterministic; ``None`` uses the global RNG.
    """

    norm: Norm = "Linf"
    minimum_norm: bool = False

    def __init__(self, eps: float | None = None, seed: int | None = None) -> None:
        check_number(f"{type(self).__name__}: eps", eps, minimum=0, allow_none=True)
        self.eps = eps
        self.seed = seed

    def __call__(
        self, model: Model, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        check_batch(x, y)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}.")
        if generator is None and self.seed is not None:
            generator = torch.Generator(device=x.device).manual_seed(self.seed)
        with preserved_state(model, generator), torch.inference_mode(False), torch.enable_grad():
            x_clean = x.detach().clone()
            y_clean = y.detach().clone()
            try:
                x_adv = self.perturb(model, x_clean, y_clean, generator)
            except (RuntimeError, IndexError):
                _diagnose(model, x_clean, y_clean)
                raise
            return project(x_adv.detach().to(x.dtype), x_clean, self.eps, self.norm)

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        """Returns the adversarial batch; the caller projects it onto the threat model afterwards."""
        raise NotImplementedError

    def with_eps(self, eps: float) -> Attack:
        """A shallow copy of this attack with another radius (used to sweep an epsilon grid).

        Step sizes given explicitly stay as given; those left to their default rule follow ``eps``.
        """
        clone = copy.copy(self)
        clone.eps = eps
        return clone

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _diagnose(model: Model, x: Tensor, y: Tensor) -> None:
    """After an attack failed inside torch, raises the ValueError that names the cause when it is a batch
    the model does not take (its forward pass fails with a shape error) or labels beyond its classes;
    returns when it is neither. One forward pass, only on this failure path."""
    try:
        with torch.no_grad():
            logits = model(x)
    except RuntimeError as error:
        raise_if_shape_error(error, x)
        return
    check_logits(logits, x.shape[0])
    check_labels_below(y, logits.shape[1])
