"""Target selection for targeted attacks, and the base class of attacks that offer a targeted mode."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

from lit_robust.attacks.base import Attack, Model, check_choice, model_logits
from lit_robust.attacks.linear import closest_class

TargetRule = Literal["least_likely", "random", "closest", "given"]


def select_targets(
    model: Model, x: Tensor, y: Tensor, rule: TargetRule, generator: torch.Generator | None = None
) -> Tensor:
    """Target classes for a targeted attack.

    Rules: ``"least_likely"``: the class with the lowest logit on ``x`` (Kurakin et al. 2017);
    ``"random"``: uniform over the classes other than the label ``y``; ``"closest"``: the class whose
    linearised decision boundary is nearest to the predicted class (the DeepFool rule, input gradients);
    ``"given"``: ``y`` itself is the target.
    """
    if rule == "given":
        return y
    with torch.no_grad():
        logits = model_logits(model, x)
    if rule == "least_likely":
        return logits.argmin(dim=1)
    if rule == "random":
        draw = torch.randint(logits.shape[1] - 1, y.shape, generator=generator, device=y.device)
        return draw + (draw >= y).long()
    return closest_class(model, x, logits)


class TargetedAttack(Attack):
    """An :class:`Attack` with an optional targeted mode.

    Args:
        eps: radius of the threat model's norm ball; ``None`` for minimum-norm attacks.
        targeted: move towards a target class instead of away from the label.
        target: how targets are chosen when ``targeted`` (see :func:`select_targets`).
        seed: seed of the attack's generator (random starts, random targets).
    """

    def __init__(
        self,
        eps: float | None = None,
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
    ) -> None:
        super().__init__(eps, seed)
        check_choice("target", target, get_args(TargetRule))
        self.targeted = targeted
        self.target = target

    def targets(self, model: Model, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor | None:
        """The target classes in targeted mode, ``None`` otherwise."""
        return select_targets(model, x, y, self.target, generator) if self.targeted else None
