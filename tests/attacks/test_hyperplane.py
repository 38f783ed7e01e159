"""FAB's projection: the least-norm step onto a hyperplane inside the box, checked against scipy's solvers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from lit_robust.attacks.hyperplane import box_step_to_hyperplane


def reference(t: np.ndarray, w: np.ndarray, gap: float, norm: str) -> float | None:
    """The least norm of a step ``d`` with ``w . d = -gap`` and ``0 <= t + d <= 1`` (``None``: infeasible)."""
    n = len(t)
    bounds = list(zip(-t, 1 - t, strict=True))
    if norm == "Linf":  # variables (d, s): minimise s with -s <= d_i <= s
        cost = np.r_[np.zeros(n), 1.0]
        upper = np.block([[np.eye(n), -np.ones((n, 1))], [-np.eye(n), -np.ones((n, 1))]])
        result = linprog(
            cost, A_ub=upper, b_ub=np.zeros(2 * n), A_eq=np.r_[w, 0.0][None], b_eq=[-gap],
            bounds=[*bounds, (0, None)],
        )  # fmt: skip
        return result.fun if result.status == 0 else None
    constraint = {"type": "eq", "fun": lambda d: w @ d + gap, "jac": lambda d: w}
    result = minimize(
        lambda d: d @ d, np.zeros(n), jac=lambda d: 2 * d, bounds=bounds, constraints=[constraint]
    )
    return float(np.sqrt(result.fun)) if result.success and abs(w @ result.x + gap) < 1e-7 else None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 12),
    norm=st.sampled_from(["Linf", "L2"]),
    zeros=st.integers(0, 3),
    edges=st.booleans(),
)
def test_the_step_is_the_least_norm_point_of_the_hyperplane_in_the_box(
    seed: int, n: int, norm: str, zeros: int, edges: bool
) -> None:
    generator = torch.Generator().manual_seed(seed)
    t = torch.rand(1, n, generator=generator, dtype=torch.float64)
    if edges:
        t = torch.where(torch.rand(1, n, generator=generator) < 0.3, t.round(), t)
    w = torch.randn(1, n, generator=generator, dtype=torch.float64)
    w[0, :zeros] = 0
    gap = torch.randn(1, generator=generator, dtype=torch.float64)
    d = box_step_to_hyperplane(t, w, gap, norm)
    assert (t + d >= -1e-12).all() and (t + d <= 1 + 1e-12).all()
    best = reference(t[0].numpy(), w[0].numpy(), gap.item(), norm)
    if best is None:  # the box does not reach the hyperplane: the step goes all the way to the nearest corner
        assert (w * d).sum() * gap.sign() <= 0
        return
    torch.testing.assert_close((w * d).sum(), -gap[0], rtol=0, atol=1e-9)
    ours = d.norm(p=float("inf") if norm == "Linf" else 2).item()
    assert ours <= best + 1e-6


@pytest.mark.parametrize("norm", ["Linf", "L2"])
def test_a_zero_gap_needs_no_step(norm: str) -> None:
    t, w = torch.rand(3, 5), torch.randn(3, 5)
    assert torch.equal(box_step_to_hyperplane(t, w, torch.zeros(3), norm), torch.zeros(3, 5))
