"""Basic iterative method (I-FGSM, Kurakin et al. 2017) and ILL, its iterative least-likely version."""

from __future__ import annotations

from lit_robust.attacks.iterative import IterativeAttack
from lit_robust.attacks.targets import TargetRule


class BIM(IterativeAttack):
    """Iterative FGSM from the clean input (no random start), each iterate clipped to the Linf ball.

    Default step size ``eps / steps`` (the whole budget is reachable in ``steps`` steps): at ``eps=0.3``
    and 10 steps this is AT2L's 0.03; the Pixel Redrawn paper used CleverHans' 0.05 (set ``step_size``).

    Args:
        eps: Linf radius (pixel space).
        steps: number of iterations.
        step_size: Linf step per iteration; ``None`` for ``eps / steps``.
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
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
        early_stop: bool = False,
    ) -> None:
        super().__init__(
            eps, steps, step_size, targeted=targeted, target=target, seed=seed, early_stop=early_stop
        )


class ILL(BIM):
    """Iterative least-likely class method (Kurakin et al. 2017): BIM descending the cross-entropy to the
    class with the lowest logit on the clean input.

    Args:
        eps: Linf radius (pixel space); AT2L uses 0.3 with 10 steps of 0.03 on MNIST.
        steps: number of iterations.
        step_size: Linf step per iteration; ``None`` for ``eps / steps``.
    """

    def __init__(self, eps: float, steps: int = 10, step_size: float | None = None) -> None:
        super().__init__(eps, steps, step_size, targeted=True, target="least_likely")
