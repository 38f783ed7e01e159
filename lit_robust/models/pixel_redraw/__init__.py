"""Pixel Redrawn: colour ranges, the PR models (one-input perceptrons) and the `PixelRedrawer` module."""

from lit_robust.models.pixel_redraw.perceptron import predict_range, range_accuracy, train_pr_models
from lit_robust.models.pixel_redraw.ranges import CODE_RANGES_K3, colour_ranges, containing
from lit_robust.models.pixel_redraw.redrawer import PixelRedrawer

__all__ = [
    "CODE_RANGES_K3",
    "PixelRedrawer",
    "colour_ranges",
    "containing",
    "predict_range",
    "range_accuracy",
    "train_pr_models",
]
