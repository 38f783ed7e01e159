"""Expectation over transformation (Athalye et al. 2018) as a wrapper around any lit_robust attack.

In YAML::

    attack:
      class_path: lit_robust.attacks.EOT
      init_args:
        samples: 10
        attack:
          class_path: lit_robust.attacks.PGD
          init_args: {eps: 0.3, steps: 40, step_size: 0.01}
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, Norm
from lit_robust.attacks.gradient import Expectation


class EOT(Attack):
    """Runs ``attack`` against ``Expectation(model, samples)``: every gradient the attack takes is the mean
    over ``samples`` draws of the randomised model of that draw's loss gradient (the gradient of the
    expected loss), and it judges success, and picks its first successful iterate, by the majority vote of
    those draws, the defense's own prediction (:func:`~lit_robust.attacks.majority.majority_vote`), not by
    the mean logits; its best-loss iterate is the one with the highest mean loss over draws. (An attack that
    reads more than the argmax, C&W's ``confidence``, reads it in vote shares: the adversarial class must win
    the vote by more than ``confidence``.) See
    :class:`~lit_robust.attacks.gradient.Expectation`. Radius, norm and the minimum-norm flag are the
    wrapped attack's; the wrapped attack does the input checks and the final projection.

    Args:
        attack: the attack to run.
        samples: draws of the model averaged per evaluation.
    """

    def __init__(self, attack: Attack, samples: int) -> None:
        if samples < 1:
            raise ValueError(f"EOT: samples must be >= 1, got {samples}.")
        self.attack = attack
        self.samples = samples

    @property
    def eps(self) -> float | None:  # type: ignore[override]
        return self.attack.eps

    @property
    def norm(self) -> Norm:  # type: ignore[override]
        return self.attack.norm

    @property
    def minimum_norm(self) -> bool:  # type: ignore[override]
        return self.attack.minimum_norm

    def __call__(
        self, model: Model, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        return self.attack(Expectation(model, self.samples), x, y, generator=generator)

    def with_eps(self, eps: float) -> EOT:
        return EOT(self.attack.with_eps(eps), self.samples)
