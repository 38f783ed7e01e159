"""The evaluation figures: accuracy against epsilon and the labelled examples."""

from __future__ import annotations

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from lit_robust.evaluation.plots import CLEAN, examples_figure


def texts(figure) -> list[str]:
    FigureCanvasAgg(figure).draw()
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def test_examples_are_columns_titled_with_predictions_and_colored_by_correctness():
    images = torch.rand(3, 1, 8, 8)
    labels = torch.tensor([1, 2, 3])
    columns = {CLEAN: images, "pgd eps<=0.1": images}
    predictions = {CLEAN: torch.tensor([1, 2, 0]), "pgd eps<=0.1": torch.tensor([0, 2, 0])}
    captions = {"pgd eps<=0.1": ["a", "b", "c"]}
    figure = examples_figure(columns, labels, predictions, captions)
    expected = {CLEAN, "pgd eps<=0.1", "pred 1\nlabel 1", "pred 0\nlabel 3", "pred 0\na", "pred 2\nb"}
    assert expected <= set(texts(figure))
    colors = {a.get_title(): a.title.get_color() for a in figure.axes}
    assert colors["pred 1\nlabel 1"] == "tab:green" and colors["pred 0\na"] == "tab:red"
    width, height = figure.get_size_inches() * figure.dpi
    assert width * height >= 4 * 233 * 88
