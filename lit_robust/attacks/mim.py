"""Momentum iterative method (MI-FGSM, Dong et al. 2018)."""

from __future__ import annotations

from typing import Any

from lit_robust.attacks.iterative import IterativeAttack


class MIM(IterativeAttack):
    """BIM whose steps follow the sign of a momentum ``g = decay * g + grad / ||grad||_1``.

    Default step size ``eps / steps`` as in Dong et al.; the Pixel Redrawn paper used CleverHans' 0.06 at
    eps 0.3 with 10 iterations (set ``step_size``).

    Args:
        eps: Linf radius (pixel space).
        steps: number of iterations.
        step_size: Linf step per iteration; ``None`` for ``eps / steps``.
        decay: momentum decay factor (``mu`` in the paper).
        **kwargs: the other arguments of :class:`~lit_robust.attacks.iterative.IterativeAttack`
            (``targeted``, ``target``, ``seed``, ``early_stop``); MIM fixes ``norm="Linf"``, no random
            start and one run.
    """

    def __init__(
        self, eps: float, steps: int = 10, step_size: float | None = None, decay: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(
            eps, steps, step_size, norm="Linf", random_start=False, restarts=1, decay=decay, **kwargs
        )
