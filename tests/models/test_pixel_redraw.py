"""Pixel Redrawn: colour ranges, PR model training and the PixelRedrawer module."""

from __future__ import annotations

import pytest
import torch

from lit_robust.models import PixelRedrawer
from lit_robust.models.pixel_redraw import (
    CODE_RANGES_K3,
    colour_ranges,
    containing,
    predict_range,
    range_accuracy,
    train_pr_models,
)


def test_default_ranges_are_the_codes_for_k3_and_equal_width_otherwise():
    assert torch.equal(colour_ranges(3), torch.tensor(CODE_RANGES_K3))
    four = colour_ranges(4)
    assert torch.allclose(four, torch.tensor([[0, 0.25], [0.25, 0.5], [0.5, 0.75], [0.75, 1.0]]))
    given = colour_ranges(2, [[0.0, 0.6], [0.5, 1.0]])
    assert torch.equal(given, torch.tensor([[0.0, 0.6], [0.5, 1.0]]))


@pytest.mark.parametrize(
    ("k", "ranges", "match"),
    [
        (1, None, "k"),
        (3, [[0.0, 0.5], [0.5, 1.0]], "k=3"),
        (2, [[0.0, 0.4], [0.5, 1.0]], "uncovered"),
        (2, [[0.0, 0.5], [0.5, 0.9]], "end at"),
        (2, [[0.5, 1.0], [0.0, 0.5]], "sorted"),
        (2, [[0.0, 0.5], [0.5, 1.2]], r"ranges\[1\]"),
        (2, [[0.3, 0.3], [0.0, 1.0]], r"ranges\[0\]"),
    ],
)
def test_invalid_ranges_are_rejected(k, ranges, match):
    with pytest.raises(ValueError, match=match):
        colour_ranges(k, ranges)


def test_training_learns_the_ranges_and_stops_each_model_at_its_step_count():
    ranges = colour_ranges(3)
    start = torch.zeros(3, 3)
    steps = torch.tensor([0, 50, 5000])
    weight, bias = train_pr_models(ranges, steps, start, start, torch.Generator().manual_seed(0))
    assert torch.equal(weight[0], start[0]) and torch.equal(bias[0], start[0])  # zero steps: untouched
    accuracy = range_accuracy(weight, bias, ranges)
    assert accuracy[2] > 0.97  # converged: almost every value lands in a range that contains it
    assert accuracy[1] < accuracy[2]  # stopped early: partially converged


def test_redrawn_pixels_lie_in_the_predicted_range_and_keep_shape_dtype():
    redrawer = PixelRedrawer(k=4, steps=3000, decimals=None)
    x = torch.rand(5, 2, 6, 6, dtype=torch.float64)
    out = redrawer(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    category = predict_range(x.float(), redrawer.weight[0], redrawer.bias[0])
    low, high = redrawer.ranges[category].unbind(-1)
    assert ((out >= low - 1e-6) & (out <= high + 1e-6)).all()
    assert len(torch.unique(out)) > 100  # a uniform draw inside the range, not a fixed value


def test_values_are_rounded_to_the_codes_two_decimals():
    out = PixelRedrawer(steps=300)(torch.rand(2, 1, 8, 8))
    assert torch.allclose(out, (out * 100).round() / 100, atol=1e-6)


def test_seeded_redraws_repeat_and_unseeded_ones_differ():
    x = torch.rand(3, 1, 8, 8)
    seeded = PixelRedrawer(steps=300, redraw_seed=7)
    assert torch.equal(seeded(x), seeded(x))
    free = PixelRedrawer(steps=300)
    assert not torch.equal(free(x), free(x))
    first = free(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, free(x, generator=torch.Generator().manual_seed(1)))


def test_pr_models_follow_the_seed():
    same = (
        PixelRedrawer(models=3, step_range=(10, 40), seed=1),
        PixelRedrawer(models=3, step_range=(10, 40), seed=1),
    )
    other = PixelRedrawer(models=3, step_range=(10, 40), seed=2)
    assert torch.equal(same[0].weight, same[1].weight)
    assert not torch.equal(same[0].weight, other.weight)
    assert ((same[0].steps >= 10) & (same[0].steps <= 40)).all()
    assert list(same[0].buffers()) and not list(same[0].parameters())  # never trained with the classifier


def two_opposite_models(choice: str) -> PixelRedrawer:
    """Model 0 sends every value to range 0, model 1 to range 2."""
    redrawer = PixelRedrawer(models=2, step_range=(0, 0), choice=choice)
    redrawer.weight.zero_()
    redrawer.bias.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    return redrawer


def test_model_choice_per_image_or_per_pixel():
    x = torch.rand(8, 1, 10, 10)
    per_image = two_opposite_models("image")(x).flatten(1)
    high = per_image >= 0.6  # range 2 is [0.6, 1], range 0 is [0, 0.4]
    assert (high.all(dim=1) | (~high).all(dim=1)).all()  # one model for all of an image
    assert 0 < high.all(dim=1).sum() < 8  # chosen at random per image
    per_pixel = two_opposite_models("pixel")(x).flatten(1) >= 0.6
    assert (per_pixel.any(dim=1) & (~per_pixel).any(dim=1)).all()  # mixed inside every image


def test_colour_channels_are_redrawn_independently_or_as_grey():
    x = torch.rand(2, 3, 8, 8)
    colour = PixelRedrawer(steps=300, decimals=None)(x)
    assert not torch.equal(colour[:, 0], colour[:, 1])
    grey = PixelRedrawer(steps=300, grayscale=True)(x)
    assert (
        grey.shape == x.shape and torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])
    )


def test_containing_marks_both_ends():
    inside = containing(torch.tensor([0.0, 0.35, 1.0]), colour_ranges(3))
    assert inside.tolist() == [[True, False, False], [True, True, False], [False, False, True]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"models": 0}, "models"),
        ({"steps": -1}, "steps"),
        ({"models": 2, "step_range": (5, 1)}, "step_range"),
        ({"init": "uniform"}, "init"),
        ({"choice": "row"}, "choice"),
        ({"decimals": -1}, "decimals"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PixelRedrawer(**kwargs)


def test_non_image_input_is_rejected():
    with pytest.raises(ValueError, match="N, C, H, W"):
        PixelRedrawer(steps=0)(torch.rand(4, 4))
