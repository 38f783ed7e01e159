"""The Square attack (Andriushchenko et al. 2020): random search with square updates, no gradients."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, Norm, flat_norm, model_logits, per_sample
from lit_robust.attacks.iterative import StepNorm, check_step_options
from lit_robust.attacks.majority import plurality, vote_shares
from lit_robust.attacks.objectives import margin
from lit_robust.attacks.per_point import best_of_restarts
from lit_robust.attacks.square_windows import (
    l2_patterns,
    random_corners,
    square_fraction,
    window_index,
    window_mask,
)

REDRAWS = 10
Generator = torch.Generator | None


class Square(Attack):
    """Score-based random search: each query proposes a change of the current best perturbation inside a
    random square window and keeps it when it lowers the margin ``z_y - max_{k != y} z_k`` or fools the
    model. It only evaluates the model (under ``torch.no_grad``) and never calls backward, so it checks for
    masked gradients.

    Follows the paper: the square covers a fraction ``p`` of the pixels, ``p_init`` halved after iterations
    10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10,000, rescaled to ``queries`` (as the authors'
    code does); Linf starts from vertical stripes of ``+-eps`` and sets a window to one random sign per
    channel; L2 starts from a grid of about 5 x 5 squares of the paper's centre-weighted patterns and moves
    mass between two windows (the authors' update). Where the AutoAttack port shares one window position
    per batch and iteration, each image draws its own (the paper; the original Square code), and, as the
    original code does, a Linf proposal that would leave the image unchanged is redrawn (at most 10 times)
    instead of spending a query. Each point stops at its first success; later restarts attack only the
    points no earlier restart has fooled.

    With ``eot_samples > 1`` (a randomised defense) each query runs that many draws: the margin is their
    mean and success is judged by their majority vote (:func:`~lit_robust.attacks.majority.majority_vote`),
    the defense's own prediction. (Use this option rather than the :class:`~lit_robust.attacks.EOT` wrapper,
    which is for gradient attacks: Square would see its mean logits.)

    Args:
        eps: radius of the norm ball (pixel space).
        norm: ``"Linf"`` or ``"L2"``.
        queries: model evaluations per point and restart (the initial point included), each of
            ``eot_samples`` forward passes.
        p_init: the fraction of pixels of the first squares.
        restarts: number of runs.
        eot_samples: draws of the model averaged per query.
        seed: seed of the attack's generator.
    """

    def __init__(
        self,
        eps: float,
        norm: StepNorm = "Linf",
        queries: int = 5000,
        p_init: float = 0.8,
        restarts: int = 1,
        eot_samples: int = 1,
        seed: int | None = 0,
    ) -> None:
        super().__init__(eps, seed)
        check_step_options(norm, queries=queries, restarts=restarts, eot_samples=eot_samples)
        if not 0 < p_init <= 1:
            raise ValueError(f"p_init must be in (0, 1], got {p_init}.")
        self.norm: Norm = norm
        self.queries = queries
        self.p_init = p_init
        self.restarts = restarts
        self.eot_samples = eot_samples

    def perturb(self, model: Model, x: Tensor, y: Tensor, generator: Generator) -> Tensor:
        if x.dim() != 4:
            raise ValueError(
                f"Square needs images of shape (batch, channels, height, width), got {tuple(x.shape)}."
            )
        with torch.no_grad():
            return best_of_restarts(
                x, self.restarts, lambda index: self._run(model, x[index], y[index], generator)
            )

    def _query(self, model: Model, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """(mean margin over the draws, whether their majority vote misclassifies)."""
        draws = [model_logits(model, x) for _ in range(self.eot_samples)]
        mean_margin = torch.stack([margin(z, y) for z in draws]).mean(dim=0)
        votes = vote_shares(torch.stack([z.argmax(dim=1) for z in draws]), draws[0].shape[1])
        return mean_margin, plurality(votes) != y

    def _run(self, model: Model, x: Tensor, y: Tensor, generator: Generator) -> tuple[Tensor, Tensor, Tensor]:
        x_best = self._start(x, generator)
        best_margin, success = self._query(model, x_best, y)
        active = (~success).nonzero().squeeze(1)
        for i in range(self.queries - 1):
            if active.numel() == 0:
                break
            xs, current = x[active], x_best[active]
            proposal = self._propose(xs, current, square_fraction(i, self.queries, self.p_init), generator)
            new_margin, fooled = self._query(model, proposal, y[active])
            better = fooled | (new_margin < best_margin[active])
            x_best[active] = torch.where(per_sample(better, xs), proposal, current)
            best_margin[active] = torch.where(better, new_margin, best_margin[active])
            success[active] = fooled
            active = active[~fooled]
        return x_best, success, -best_margin

    def _start(self, x: Tensor, generator: Generator) -> Tensor:
        batch, channels, height, width = x.shape
        if self.norm == "Linf":
            stripes = _random_signs((batch, channels, 1, width), generator, x)
            return (x + self.eps * stripes).clamp(0.0, 1.0)
        size = max(min(height, width) // 5, 1)
        delta = torch.zeros_like(x)
        for top in range((height - size * (height // size)) // 2, height - size + 1, size):
            for left in range((width - size * (width // size)) // 2, width - size + 1, size):
                patterns = l2_patterns(batch, size, generator, x.device, x.dtype)
                signs = _random_signs((batch, channels, 1, 1), generator, x)
                delta[:, :, top : top + size, left : left + size] = patterns * signs
        return (x + self.eps * _unit(delta)).clamp(0.0, 1.0)

    def _propose(self, x: Tensor, current: Tensor, fraction: float, generator: Generator) -> Tensor:
        height, width = x.shape[2:]
        side = round(math.sqrt(fraction * height * width))
        if self.norm == "Linf":
            return self._propose_linf(x, current, min(max(side, 1), height, width), generator)
        side = max(side, 3)
        side = min(side + 1 - side % 2, height, width)  # odd, at least 3, inside the image
        return self._propose_l2(x, current, side, generator)

    def _propose_linf(self, x: Tensor, current: Tensor, side: int, generator: Generator) -> Tensor:
        batch, channels, height, width = x.shape
        rows, cols = random_corners(batch, side, height, width, generator, x.device)
        mask = window_mask(rows, cols, side, height, width)
        proposal = current.clone()
        redraw = torch.arange(batch, device=x.device)  # the points whose proposal would change nothing
        for _ in range(REDRAWS):
            signs = _random_signs((len(redraw), channels, 1, 1), generator, x)
            window, old = mask[redraw], current[redraw]
            candidate = torch.where(window, (x[redraw] + self.eps * signs).clamp(0.0, 1.0), old)
            proposal[redraw] = candidate
            redraw = redraw[~((candidate != old) & window).flatten(1).any(dim=1)]
            if redraw.numel() == 0:
                break
        return proposal

    def _propose_l2(self, x: Tensor, current: Tensor, side: int, generator: Generator) -> Tensor:
        batch, channels, height, width = x.shape
        delta = current - x
        first = random_corners(batch, side, height, width, generator, x.device)
        second = random_corners(batch, side, height, width, generator, x.device)
        both = window_mask(*first, side, height, width) | window_mask(*second, side, height, width)
        index = window_index(*first, side)
        window = delta.permute(0, 2, 3, 1)[index].permute(0, 3, 1, 2)  # (batch, channels, side, side)
        image_norm = per_sample(flat_norm(delta, "L2"), x)
        windows_norm = (delta * both).square().sum(dim=(2, 3), keepdim=True).sqrt()
        patterns = l2_patterns(batch, side, generator, x.device, x.dtype)
        update = patterns * _random_signs((batch, channels, 1, 1), generator, x)
        update = update + window / (window.square().sum(dim=(2, 3), keepdim=True).sqrt() + 1e-12)
        budget = ((self.eps**2 - image_norm.square()).clamp_min(0) / channels + windows_norm.square()).sqrt()
        update = update / (update.square().sum(dim=(2, 3), keepdim=True).sqrt() + 1e-12) * budget
        delta = delta * ~window_mask(*second, side, height, width)
        delta = delta.permute(0, 2, 3, 1).clone()
        delta[index] = update.permute(0, 2, 3, 1)
        return (x + self.eps * _unit(delta.permute(0, 3, 1, 2))).clamp(0.0, 1.0)


def _random_signs(shape: tuple[int, ...], generator: Generator, like: Tensor) -> Tensor:
    draw = torch.randint(2, shape, generator=generator, device=like.device)
    return (2 * draw - 1).to(like.dtype)


def _unit(delta: Tensor) -> Tensor:
    """``delta`` scaled to unit L2 norm per image (zero stays zero)."""
    return delta / per_sample(flat_norm(delta, "L2") + 1e-12, delta)
