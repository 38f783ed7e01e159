"""One-step sign attacks: FGSM (Goodfellow et al. 2015) and LL, its least-likely-class version."""

from __future__ import annotations

from lit_robust.attacks.iterative import IterativeAttack
from lit_robust.attacks.targets import TargetRule


class FGSM(IterativeAttack):
    """Fast gradient sign method: one Linf step of size ``eps`` along the sign of the loss gradient.

    Args:
        eps: Linf radius (pixel space).
        targeted: step down the cross-entropy to a target class instead of up for the label.
        target: how targets are chosen when ``targeted``.
        seed: seed of the attack's generator (only used by ``target="random"``).
    """

    def __init__(
        self, eps: float, targeted: bool = False, target: TargetRule = "least_likely", seed: int | None = None
    ) -> None:
        super().__init__(eps, steps=1, targeted=targeted, target=target, seed=seed)


class LL(FGSM):
    """One step towards the least-likely class (Kurakin et al. 2017): FGSM descending the cross-entropy
    to the class with the lowest logit.

    Args:
        eps: Linf radius (pixel space); AT2L uses 0.3 on MNIST.
    """

    def __init__(self, eps: float) -> None:
        super().__init__(eps, targeted=True, target="least_likely")
