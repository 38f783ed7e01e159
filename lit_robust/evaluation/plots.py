"""Accuracy against epsilon: one curve per attack and the worst case, as a matplotlib figure."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from lit_robust.evaluation.plan import WORST
from lit_robust.evaluation.results import Column, Summary


def accuracy_figure(
    summary: Summary, kind: str = "robust_acc", norm: str = "Linf", title: str = ""
) -> Figure:
    """Accuracy of each attack of ``kind`` against epsilon, every curve starting at the clean accuracy.

    Only finite epsilons are drawn (a minimum-norm attack's ``eps=inf`` and fixed attacks without ``eps``
    are left out). The figure is built without pyplot, so it needs no display and leaks no global state.
    """
    clean = summary.get(Column("clean_acc"))
    curves: dict[str, list[tuple[float, float]]] = {}
    for column, value in summary.items():
        if column.kind == kind and column.eps is not None and math.isfinite(column.eps):
            curves.setdefault(column.attack, []).append((column.eps, value))
    figure = Figure(figsize=(5.0, 3.5), layout="constrained")
    axes = figure.add_subplot()
    for attack, points in curves.items():
        points = ([(0.0, clean)] if clean is not None else []) + sorted(points)
        style = {"color": "black", "linestyle": "--", "linewidth": 2.0} if attack == WORST else {}
        axes.plot(*zip(*points, strict=True), marker="o", markersize=3, label=attack, **style)
    axes.set_xlabel(f"epsilon ({norm})")
    axes.set_ylabel(kind.replace("_", " "))
    axes.set_ylim(-0.02, 1.02)
    axes.grid(alpha=0.3)
    if curves:
        axes.legend(fontsize="small")
    if title:
        axes.set_title(title)
    return figure
