"""The smallest step onto a hyperplane that stays inside the [0, 1] box (FAB's projection)."""

from __future__ import annotations

from torch import Tensor

from lit_robust.attacks.iterative import StepNorm


def box_step_to_hyperplane(t: Tensor, w: Tensor, gap: Tensor, norm: StepNorm) -> Tensor:
    """The step ``d`` of least Linf or L2 norm with ``w . (t + d) = w . t - gap`` and ``t + d`` in [0, 1].

    Flattened points ``t`` and normals ``w`` of shape ``(batch, n)``; ``gap`` ``(batch,)`` is how far the
    hyperplane's value must move (for a linearised logit gap ``f(t) + w . d = 0`` it is ``f(t)``). Moving
    coordinate ``i`` against ``w``'s sign is limited by the box to ``room_i`` (``t_i`` or ``1 - t_i``). The
    minimiser moves every coordinate by ``min(tau * rate_i, room_i)`` against ``sign(w_i)``, with
    ``rate_i = 1`` (Linf: all coordinates by the same amount until they hit the box) or ``|w_i|`` (L2: along
    ``w``, the clipped coordinates dropping out), for the ``tau`` at which the progress
    ``sum_i |w_i| min(tau * rate_i, room_i)`` reaches ``|gap|``. Progress is piecewise linear in ``tau`` with
    knots at ``room_i / rate_i``; sorting the knots finds the segment and ``tau`` exactly. When the box does
    not allow the full move, every coordinate moves by all of its room (the box corner nearest to the
    hyperplane), as in the authors' FAB code.
    """
    towards = -(w * gap.sign().unsqueeze(1)).sign()  # the direction each coordinate moves in
    magnitude = w.abs()
    room = (towards > 0) * (1 - t) + (towards < 0) * t
    rate = magnitude.new_ones(()).expand_as(w) if norm == "Linf" else magnitude
    knots = (room / rate.clamp_min(1e-30)) * (rate > 0)
    knots, order = knots.sort(dim=1)
    weight = (magnitude * rate).gather(1, order)  # d progress / d tau while a coordinate is free
    saturated = (magnitude * room).gather(1, order).cumsum(dim=1)  # progress of the clipped coordinates
    free = weight.sum(dim=1, keepdim=True) - weight.cumsum(dim=1)
    progress = saturated + knots * free  # progress at each knot
    needed = gap.abs().unsqueeze(1)
    reached = progress >= needed
    feasible = reached.any(dim=1, keepdim=True)
    first = reached.int().argmax(dim=1, keepdim=True)  # the first knot where the progress suffices
    before = (first - 1).clamp_min(0)
    start = first > 0
    saturated_before = saturated.gather(1, before) * start
    free_before = free.gather(1, before).where(start, weight.sum(dim=1, keepdim=True))
    tau = (needed - saturated_before) / free_before.clamp_min(1e-30)
    move = (tau * rate).minimum(room).where(feasible, room)
    return towards * move
