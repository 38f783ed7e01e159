"""Projected gradient descent (Madry et al. 2018), Linf or L2, with random start and restarts."""

from __future__ import annotations

from typing import Any

from lit_robust.attacks.iterative import IterativeAttack, StepNorm


class PGD(IterativeAttack):
    """PGD on the cross-entropy from a uniform random point of the ball, keeping per point the first
    successful (else highest-loss) result over ``restarts`` runs.

    Default step size ``2.5 * eps / steps`` (Madry et al.). The constant-random-perturbations paper uses
    eps 0.3 with step 0.01 on MNIST and eps 8/255 with step 2/255 on SVHN and CIFAR-10 (set ``step_size``).

    Args:
        eps: radius of the norm ball (pixel space).
        steps: number of iterations per run.
        step_size: step per iteration (Linf: per pixel; L2: per image); ``None`` for ``2.5 * eps / steps``.
        norm: ``"Linf"`` or ``"L2"``.
        random_start: start from a uniform point of the ball (otherwise from the clean input).
        **kwargs: the other arguments of :class:`~lit_robust.attacks.iterative.IterativeAttack`
            (``restarts``, ``targeted``, ``target``, ``seed``, ``early_stop``); PGD has no momentum.
    """

    relative_step = 2.5

    def __init__(
        self,
        eps: float,
        steps: int = 40,
        step_size: float | None = None,
        norm: StepNorm = "Linf",
        random_start: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(eps, steps, step_size, norm, random_start, decay=None, **kwargs)
