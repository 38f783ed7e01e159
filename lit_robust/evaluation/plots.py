"""Figures of an evaluation: accuracy against epsilon, and clean and adversarial images with predictions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from torch import Tensor

from lit_robust.evaluation.plan import WORST
from lit_robust.evaluation.results import Column, Summary

CLEAN = "clean"
"""The name of the clean images' column in :func:`examples_figure`."""


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
    columns: Mapping[str, Tensor],
    labels: Tensor,
    predictions: Mapping[str, Tensor],
    captions: Mapping[str, Sequence[str]] | None = None,
    title: str = "",
) -> Figure:
    """A grid of images: one column per entry of ``columns`` (the clean images, then each attack's examples),
    named at the top, one row per point; each image is titled with the model's prediction (green when it is
    the label, red when not) over a second line, the label under the clean images and ``captions`` (the
    perturbation's size, for example) under the others. Narrow and tall, so that it stays legible when
    TensorBoard fits it to a card.

    Args:
        columns: column name -> images ``(n, C, H, W)`` in [0, 1], the same ``n`` for every column; the
            first is the clean one.
        labels: the true classes ``(n,)``.
        predictions: column name -> predicted classes ``(n,)``.
        captions: column name -> one line of text per image, under its prediction (for every column but the
            first).
        title: the figure's title.
    """
    count, cell = len(labels), 1.25  # inches per image
    size = (0.8 + cell * len(columns), 0.8 + 1.25 * cell * count)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    subfigures = figure.subfigures(1, len(columns), squeeze=False)[0]
    for j, (subfigure, (name, images)) in enumerate(zip(subfigures, columns.items(), strict=True)):
        subfigure.suptitle(name, fontsize=11)
        pictures = images.detach().float().cpu().clamp(0, 1).permute(0, 2, 3, 1)
        for i, axes in enumerate(subfigure.subplots(count, 1, squeeze=False)[:, 0]):
            picture = pictures[i].squeeze(-1) if pictures.shape[-1] == 1 else pictures[i]
            axes.imshow(picture.numpy(), cmap="gray", vmin=0, vmax=1)
            axes.set_xticks([])
            axes.set_yticks([])
            predicted, label = int(predictions[name][i]), int(labels[i])
            caption = f"label {label}" if j == 0 else (captions or {}).get(name, [""] * count)[i]
            color = "tab:green" if predicted == label else "tab:red"
            axes.set_title(f"pred {predicted}\n{caption}", fontsize=10, color=color)
    if title:
        figure.suptitle(title)
    return figure
