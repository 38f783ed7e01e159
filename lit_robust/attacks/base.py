"""The attack contract shared by every lit_robust attack.

``x_adv = attack(model, x, y)``: ``model`` is any callable returning logits, ``x`` is a batch in [0, 1].
The result is detached, has x's shape, dtype and device, and lies inside the threat model (the norm ball
of radius ``eps`` around ``x`` where the attack is bounded, and the [0, 1] box). Gradients are taken only
with respect to the input, so parameters' ``.grad`` stay untouched, and the model's train/eval mode is
left as it was. Randomness comes from an explicit ``torch.Generator`` when one is given (or from ``seed``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch import Tensor, nn

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
        if eps is not None and eps < 0:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0 (pixel space, [0, 1]), got {eps}.")
        self.eps = eps
        self.seed = seed

    def __call__(
        self, model: Model, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        _check_inputs(x, y)
        if generator is None and self.seed is not None:
            generator = torch.Generator(device=x.device).manual_seed(self.seed)
        modes = _modes(model)
        try:
            with torch.inference_mode(False), torch.enable_grad():
                x_clean = x.detach().clone()
                y_clean = y.detach().clone()
                x_adv = self.perturb(model, x_clean, y_clean, generator)
                return project(x_adv.detach().to(x.dtype), x_clean, self.eps, self.norm)
        finally:
            _restore(modes)

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


def _check_inputs(x: Tensor, y: Tensor) -> None:
    if not x.is_floating_point():
        raise TypeError(f"attack input must be a float tensor in [0, 1], got dtype {x.dtype}.")
    if y.is_floating_point() or y.dim() != 1:
        raise ValueError(
            f"labels must be an integer class-index tensor of shape (batch,), got dtype {y.dtype} "
            f"and shape {tuple(y.shape)}."
        )
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"labels have batch size {y.shape[0]} but images have {x.shape[0]}.")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"attack input must lie in [0, 1] (pixel space; normalisation belongs inside the model), "
            f"got values in [{x.min().item():.3g}, {x.max().item():.3g}]."
        )


def _modes(model: Model) -> list[tuple[nn.Module, bool]]:
    return [(m, m.training) for m in model.modules()] if isinstance(model, nn.Module) else []


def _restore(modes: list[tuple[nn.Module, bool]]) -> None:
    for module, training in modes:
        if module.training != training:
            module.training = training
