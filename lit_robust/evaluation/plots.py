"""Figures of an evaluation: accuracy against epsilon, and clean and adversarial images with predictions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from torch import Tensor

from lit_robust.evaluation.plan import WORST
from lit_robust.evaluation.results import Column, Summary

CLEAN_ROW = "clean"
"""The name of the clean images' row in :func:`examples_figure` (the one whose titles give the labels)."""


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


def examples_figure(
    rows: Mapping[str, Tensor],
    labels: Tensor,
    predictions: Mapping[str, Tensor],
    captions: Mapping[str, Sequence[str]] | None = None,
    title: str = "",
) -> Figure:
    """A grid of images: one row per entry of ``rows`` (the clean images, then each attack's examples),
    named at the left, each image titled with the model's prediction (green when it is the label, red when
    not) and an optional caption (the perturbation's size, for example).

    Args:
        rows: row name -> images ``(n, C, H, W)`` in [0, 1], the same ``n`` for every row.
        labels: the true classes ``(n,)``.
        predictions: row name -> predicted classes ``(n,)``.
        captions: row name -> one line of text per image, under its prediction.
        title: the figure's title.
    """
    count = len(labels)
    cell = 1.35  # inches per image: about 135 pixels at TensorBoard's 100 dpi
    figure = Figure(figsize=(1.2 + cell * count, 0.5 + 1.3 * cell * len(rows)), layout="constrained")
    grid = figure.subplots(len(rows), count, squeeze=False)
    for axes_row, (name, images) in zip(grid, rows.items(), strict=True):
        pictures = images.detach().float().cpu().clamp(0, 1).permute(0, 2, 3, 1)
        for i, axes in enumerate(axes_row):
            picture = pictures[i].squeeze(-1) if pictures.shape[-1] == 1 else pictures[i]
            axes.imshow(picture.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes.set_xticks([])
            axes.set_yticks([])
            predicted, label = int(predictions[name][i]), int(labels[i])
            text = f"pred {predicted}" + ("" if name != CLEAN_ROW else f" (label {label})")
            if captions is not None and name in captions:
                text += f"\n{captions[name][i]}"
            axes.set_title(text, fontsize=9, color="tab:green" if predicted == label else "tab:red")
        axes_row[0].set_ylabel(name, fontsize=11, rotation=0, ha="right", va="center")
    if title:
        figure.suptitle(title)
    return figure
