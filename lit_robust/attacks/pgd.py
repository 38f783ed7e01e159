"""Projected gradient descent (Madry et al. 2018), Linf or L2, with random start and restarts."""

from __future__ import annotations

from lit_robust.attacks.iterative import IterativeAttack, StepNorm
from lit_robust.attacks.targets import TargetRule


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
        restarts: number of runs.
        targeted: descend the cross-entropy to a target class instead of ascending it for the label.
        target: how targets are chosen when ``targeted``.
        seed: seed of the attack's generator (random starts, random targets).
        early_stop: stop each point at its first iterate that fools the model (evaluation only: lossless for
            robust accuracy, but it changes adversarial-training examples).
    """

    relative_step = 2.5

    def __init__(
        self,
        eps: float,
        steps: int = 40,
        step_size: float | None = None,
        norm: StepNorm = "Linf",
        random_start: bool = True,
        restarts: int = 1,
        targeted: bool = False,
        target: TargetRule = "least_likely",
        seed: int | None = None,
        early_stop: bool = False,
    ) -> None:
        super().__init__(
            eps,
            steps,
            step_size,
            norm,
            random_start,
            restarts,
            targeted=targeted,
            target=target,
            seed=seed,
            early_stop=early_stop,
        )
