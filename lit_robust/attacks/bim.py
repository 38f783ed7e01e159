"""Basic iterative method (I-FGSM, Kurakin et al. 2017) and ILL, its iterative least-likely version."""

from __future__ import annotations

from typing import Any

from lit_robust.attacks.iterative import IterativeAttack


class BIM(IterativeAttack):
    """Iterative FGSM from the clean input (no random start), each iterate clipped to the Linf ball.

    Default step size ``eps / steps`` (the whole budget is reachable in ``steps`` steps): at ``eps=0.3``
    and 10 steps this is AT2L's 0.03; the Pixel Redrawn paper used CleverHans' 0.05 (set ``step_size``).

    Args:
        eps: Linf radius (pixel space).
        steps: number of iterations.
        step_size: Linf step per iteration; ``None`` for ``eps / steps``.
        **kwargs: the other arguments of :class:`~lit_robust.attacks.iterative.IterativeAttack`
            (``targeted``, ``target``, ``seed``, ``early_stop``); BIM fixes ``norm="Linf"``, no random
            start, one run and no momentum.
    """

    def __init__(self, eps: float, steps: int = 10, step_size: float | None = None, **kwargs: Any) -> None:
        super().__init__(
            eps, steps, step_size, norm="Linf", random_start=False, restarts=1, decay=None, **kwargs
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
