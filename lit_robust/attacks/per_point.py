"""Per-point bookkeeping: random starts, the best result over restarts, iterating until each point is done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from lit_robust.attacks.base import Norm, flat_norm, per_sample

L2Start = Literal["ball", "sphere", "radius"]
RestartRun = Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]
Update = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def random_start(
    x: Tensor, eps: float | Tensor, norm: Norm, generator: torch.Generator | None, l2_start: L2Start = "ball"
) -> Tensor:
    """A random point of the ``eps``-ball around ``x`` (Linf or L2), clipped to [0, 1]; ``eps`` is one radius
    or one per point, shape ``(batch,)``.

    Linf: uniform in the cube. L2, by ``l2_start``: ``"ball"`` draws uniformly from the ball's volume
    (radius ``eps * u^(1/d)`` for ``d`` pixels, a uniformly random direction); in high dimension almost all
    of the volume lies near the surface, so the radius is close to ``eps`` (mean ``eps * d / (d + 1)``).
    ``"sphere"`` puts every start at radius exactly ``eps`` (the authors' APGD code). ``"radius"`` draws the
    radius uniformly from ``[0, eps]`` (torchattacks' PGDL2), so starts spread over all distances from ``x``.
    """
    eps = torch.as_tensor(eps, dtype=x.dtype, device=x.device).expand(x.shape[0])
    if norm == "Linf":
        noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + per_sample(eps, x) * (2 * noise - 1)).clamp_(0.0, 1.0)
    direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    direction /= per_sample(flat_norm(direction, "L2").clamp_min(1e-12), x)
    uniform = torch.rand(x.shape[0], generator=generator, device=x.device, dtype=x.dtype)
    power = {"ball": 1.0 / x.shape[1:].numel(), "sphere": 0.0, "radius": 1.0}[l2_start]
    radius = eps * uniform**power
    return (x + per_sample(radius, x) * direction).clamp_(0.0, 1.0)


def best_of_restarts(x: Tensor, restarts: int, run: RestartRun) -> Tensor:
    """Runs an attack ``restarts`` times and keeps, per point, the first successful result or else the one
    with the highest loss. Later restarts only attack the points no earlier restart has fooled.

    ``run(index)`` attacks ``x[index]`` and returns ``(x_adv, success, loss)`` for those points.
    """
    best = x.clone()
    best_loss = torch.full(x.shape[:1], float("-inf"), device=x.device, dtype=x.dtype)
    index = torch.arange(x.shape[0], device=x.device)
    for _ in range(restarts):
        x_adv, success, loss = run(index)
        better = success | (loss > best_loss[index])
        best[index[better]] = x_adv[better]
        best_loss[index[better]] = loss[better].to(x.dtype)
        index = index[~success]
        if index.numel() == 0:
            break
    return best


def iterate_until_done(x: Tensor, steps: int, update: Update) -> Tensor:
    """Runs at most ``steps`` updates, each only on the points not done yet, and returns the iterates.

    ``update(x_active, index)`` gets the current iterates of the points ``index`` and returns ``(done,
    moved)``: ``done`` marks the points whose current iterate is final, ``moved`` holds the next iterates.
    """
    x_adv = x.clone()
    active = torch.arange(x.shape[0], device=x.device)
    for _ in range(steps):
        done, moved = update(x_adv[active], active)
        active = active[~done]
        if active.numel() == 0:
            break
        x_adv[active] = moved[~done]
    return x_adv
