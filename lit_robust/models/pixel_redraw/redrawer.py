"""`PixelRedrawer`: the Pixel Redrawn transformation ("Pixel Redrawn for a robust adversarial defense")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import Tensor, nn

from lit_robust.models.pixel_redraw.perceptron import predict_range, range_accuracy, train_pr_models
from lit_robust.models.pixel_redraw.ranges import colour_ranges

Choice = Literal["pixel", "image"]
Init = Literal["zeros", "normal"]
LUMA = (0.299, 0.587, 0.114)
"""ITU-R 601 luma weights, as :func:`lit_robust.data.cifar.rgb_to_luma`."""


class PixelRedrawer(nn.Module):
    """Redraws every pixel value uniformly inside the colour range that a PR model predicts for it.

    ``d`` PR models (one-input perceptrons with ``k`` outputs, see
    :mod:`~lit_robust.models.pixel_redraw.perceptron`) are trained at construction, deterministically from
    ``seed``, and kept as buffers (they are never trained with the classifier). A pixel value ``x`` is
    redrawn as a uniform draw inside ``ranges[argmax(x * W + b)]`` (rounded to ``decimals`` as the original
    code does), every channel of colour images independently through the same model. With several models,
    the one that redraws is chosen at random per pixel (``choice="pixel"``, the paper's text) or per image
    (``"image"``, the original code).

    Defaults follow the notes on the original code: one model from zero weights trained for ``steps``
    steps; several models ("partially converged" by design) from N(0, 1) weights, each trained for a random
    number of steps in ``step_range`` (inclusive).

    The redraw is random: from ``generator`` when :meth:`forward` gets one, else from a fresh generator
    seeded with ``redraw_seed`` at every call (a fixed function of the input) when that is set, else from
    torch's global RNG. It works on batches on any device and has no useful gradient (an argmax and a random
    draw): attack it with :class:`~lit_robust.attacks.BPDA` and :class:`~lit_robust.attacks.EOT`.

    Args:
        k: number of colour ranges.
        ranges: user-given ``[low, high]`` ranges (validated, see
            :func:`~lit_robust.models.pixel_redraw.ranges.colour_ranges`); ``None``: the code's k=3 ranges
            ``[0, 0.4], [0.3, 0.7], [0.6, 1]``, equal-width ranges for other ``k``.
        models: number ``d`` of PR models.
        steps: SGD steps of a single model.
        step_range: ``[min, max]`` steps of each of several models, drawn uniformly.
        init: initial weights: ``"zeros"`` or ``"normal"`` (N(0, 1)); ``None``: zeros for one model, normal
            for several.
        choice: which model redraws: chosen per ``"pixel"`` or per ``"image"``.
        grayscale: redraw the luma of colour images and repeat it over the channels.
        decimals: round redrawn values to this many decimals (the code uses 2); ``None`` keeps them.
        lr: SGD learning rate of the PR models.
        seed: seed of the PR models' initialisation, step counts and training data.
        redraw_seed: seed every redraw, making it a fixed function; ``None`` draws fresh randomness.
    """

    weight: Tensor
    bias: Tensor
    ranges: Tensor

    def __init__(
        self,
        k: int = 3,
        ranges: list[list[float]] | None = None,
        models: int = 1,
        steps: int = 5000,
        step_range: Sequence[int] = (300, 3000),
        init: Init | None = None,
        choice: Choice = "pixel",
        grayscale: bool = False,
        decimals: int | None = 2,
        lr: float = 0.1,
        seed: int = 0,
        redraw_seed: int | None = None,
    ) -> None:
        super().__init__()
        _check_arguments(models, steps, step_range, init, choice, decimals, lr)
        self.choice: Choice = choice
        self.grayscale = grayscale
        self.decimals = decimals
        self.redraw_seed = redraw_seed
        table = colour_ranges(k, ranges)
        generator = torch.Generator().manual_seed(seed)
        init = init or ("zeros" if models == 1 else "normal")
        shape = (models, len(table))
        weight, bias = (
            (torch.zeros(shape), torch.zeros(shape))
            if init == "zeros"
            else (torch.randn(shape, generator=generator), torch.randn(shape, generator=generator))
        )
        low, high = step_range
        counts = (
            torch.tensor([steps])
            if models == 1
            else torch.randint(low, high + 1, (models,), generator=generator)
        )
        weight, bias = train_pr_models(table, counts, weight, bias, generator, lr=lr)
        self.register_buffer("ranges", table)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.register_buffer("steps", counts)

    @property
    def k(self) -> int:
        return len(self.ranges)

    @property
    def models(self) -> int:
        return len(self.weight)

    def accuracy(self) -> Tensor:
        """``(d,)``: fraction of [0, 1] that each PR model sends to a range containing the value."""
        return range_accuracy(self.weight.cpu(), self.bias.cpu(), self.ranges.cpu())

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Redrawn images of ``x`` (floats in [0, 1], ``(N, C, H, W)``), same shape, dtype and device."""
        if x.dim() != 4:
            raise ValueError(f"PixelRedrawer expects images (N, C, H, W), got shape {tuple(x.shape)}.")
        if generator is None and self.redraw_seed is not None:
            generator = torch.Generator(device=x.device).manual_seed(self.redraw_seed)
        values = x.detach().float()
        if self.grayscale and values.shape[1] > 1:
            values = luma(values)
        category = self._categories(values, generator)
        low, high = self.ranges[category].unbind(dim=-1)
        redrawn = torch.rand(values.shape, generator=generator, device=x.device).mul_(high - low).add_(low)
        if self.decimals is not None:
            redrawn = redrawn.round(decimals=self.decimals)
        return redrawn.clamp_(0, 1).expand_as(x).to(x.dtype).contiguous()

    def _categories(self, values: Tensor, generator: torch.Generator | None) -> Tensor:
        if self.models == 1:
            return predict_range(values, self.weight[0], self.bias[0])
        n, _, h, w = values.shape
        shape = (n, 1, h, w) if self.choice == "pixel" else (n, 1, 1, 1)
        index = torch.randint(self.models, shape, generator=generator, device=values.device)
        return predict_range(values, self.weight[index], self.bias[index])

    def extra_repr(self) -> str:
        return f"k={self.k}, models={self.models}, choice={self.choice!r}, grayscale={self.grayscale}"


def luma(images: Tensor) -> Tensor:
    """``(N, 1, H, W)`` luma of float RGB images ``(N, 3, H, W)``."""
    if images.shape[1] != 3:
        raise ValueError(f"grayscale redraw needs 1 or 3 channels, got {images.shape[1]}.")
    return (images * images.new_tensor(LUMA).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)


def _check_arguments(
    models: int, steps: int, step_range: Sequence[int], init: str | None, choice: str, decimals, lr: float
) -> None:
    for name, value, minimum in (("models", models, 1), ("steps", steps, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if len(step_range) != 2 or not 0 <= step_range[0] <= step_range[1]:
        raise ValueError(f"step_range must be [min, max] with 0 <= min <= max, got {list(step_range)}.")
    if init is not None and init not in get_args(Init):
        raise ValueError(f"init must be one of {get_args(Init)} or None, got {init!r}.")
    if choice not in get_args(Choice):
        raise ValueError(f"choice must be one of {get_args(Choice)}, got {choice!r}.")
    if decimals is not None and (not isinstance(decimals, int) or decimals < 0):
        raise ValueError(f"decimals must be an integer >= 0 or None, got {decimals!r}.")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}.")
