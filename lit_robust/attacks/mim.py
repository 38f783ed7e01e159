"""Momentum iterative method (MI-FGSM, Dong et al. 2018)."""

from __future__ import annotations

from lit_robust.attacks.iterative import IterativeAttack
from lit_robust.attacks.targets import TargetRule


class MIM(IterativeAttack):
    """BIM whose steps follow the sign of a momentum ``g = decay * g + grad / ||grad||_1``.

    Default step size ``eps / steps`` as in Dong et al.; the Pixel Redrawn paper used CleverHans' 0.06 at
    eps 0.3 with 10 iterations (set ``step_size``).

    Args:
        eps: Linf radius (pixel space).
        steps: number of iterations.
        step_size: Linf step per iteration; ``None`` for ``eps / steps``.
        decay: momentum decay factor (``mu`` in the paper).
        targeted: descend the cross-entropy to a target class instead of ascending it for the label.
        target: how targets are chosen when ``targeted``.
        seed: seed of the attack's generator (only used by ``target="random"``).
        early_stop: stop each point at its first iterate that fools the model (evaluation only: lossless for
            robust accuracy, but it changes adversarial-training examples).
    """

    def __init__(
        self,
        eps: float,
        steps: int = 10,
        step_size: float | None = None,
        decay: float = 1.0,
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
        early_stop: bool = False,
    ) -> None:
        super().__init__(
            eps,
            steps,
            step_size,
            decay=decay,
            targeted=targeted,
            target=target,
            seed=seed,
            early_stop=early_stop,
        )
