"""AutoAttack presets (Croce and Hein 2020): attacks by name for ``evaluate_robustness`` with
``worst_case_only=True``.

Each preset is a cascade, in order, on the points still robust (``worst_case_only``), so an attack only
attacks what the earlier ones left, and each point stops at its first success:

- ``standard``: APGD-CE, APGD-T (9 targets), FAB-T (9 targets), Square (5,000 queries): AutoAttack's
  standard version, with its settings (100 steps, one restart each).
- ``rand``: for randomised defenses: APGD-CE and APGD-DLR under ``EOT`` with 20 draws, and Square whose
  margin is averaged over 20 draws. Evaluate with ``randomized=True`` so that every judgement is the
  defense's own majority vote.
- ``fast``: close to the ``standard`` worst case for a fraction of its passes (docs/benchmarks.md: on 1,000
  Fashion-MNIST points within 0.2 points of it at L-inf eps 0.1 and 0.03, for under 1/10 of AutoAttack's
  backward passes on an adversarially trained model), after MALT (Melamed et al. 2024: choose the targets by
  a linear estimate of the distance to each class's boundary) and A3 (Liu et al. 2022: discard each point at
  its first success, spend further effort only where the margin stays small). Three APGD-T runs (100
  steps) whose targets are ranked by the distance, in the threat model's norm, to the linearised boundary
  (``ranking="linear"``): the nearest class on every point; the next two classes on the survivors with the
  smallest margins, at most 20% of the correctly classified points; the other six classes on at most 2%
  (:class:`~lit_robust.evaluation.focus.Closest`). Every point stops at its first success. No Square and
  no FAB: use ``standard`` or ``rand`` where gradients may be masked, and report ``standard``.

In a config, :class:`~lit_robust.callbacks.RobustnessEvaluation` takes a preset by name (``preset:
standard``) and builds it at the largest epsilon of its grid (the cascade sweeps the grid with ``with_eps``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from lit_robust.attacks import APGD, APGDT, EOT, FAB, Attack, Square
from lit_robust.attacks.base import check_choice
from lit_robust.attacks.iterative import StepNorm
from lit_robust.evaluation.focus import Closest
from lit_robust.evaluation.plan import AttackFn, Epsilons

Version = Literal["standard", "rand", "fast"]
STEPS = 100
"""Iterations of APGD, APGD-T and FAB in AutoAttack."""
QUERIES = 5000
"""Queries of Square in AutoAttack."""
EOT_DRAWS = 20
"""Draws per gradient (and per Square margin) in the ``rand`` version."""
FAST_STAGES = ((1, 1.0), (2, 0.2), (6, 0.02))
"""The APGD-T runs of ``fast``: how many classes of the linear ranking each attacks (after the earlier runs'
classes), and on how many points at most, as a share of the correctly classified points."""
FAST_NAMES = ("apgd-t-nearest", "apgd-t-next", "apgd-t-rest")


def autoattack(
    eps: float, norm: StepNorm = "Linf", version: Version = "standard", num_classes: int = 10, seed: int = 0
) -> dict[str, AttackFn]:
    """The attacks of an AutoAttack version by name, in cascade order (see the module docstring).

    Args:
        eps: radius of the threat model (pixel space); a sweep changes it with ``with_eps``.
        norm: ``"Linf"`` or ``"L2"``.
        version: ``"standard"``, ``"rand"`` or ``"fast"``.
        num_classes: classes of the model; the targeted attacks use ``min(9, num_classes - 1)`` targets.
        seed: seed of the attacks' own generators (the evaluation passes per-block generators anyway).

    Raises:
        ValueError: for an unknown version or norm, or fewer than 2 classes.
    """
    check_choice("version", version, get_args(Version))
    check_choice("norm", norm, get_args(StepNorm))
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
    targets = min(9, num_classes - 1)
    apgd_ce = APGD(eps, norm, steps=STEPS, loss="ce", seed=seed)
    if version == "standard":
        return {
            "apgd-ce": apgd_ce,
            "apgd-t": APGDT(eps, norm, steps=STEPS, num_target_classes=targets, seed=seed),
            "fab-t": FAB(eps, norm, steps=STEPS, targeted=True, num_target_classes=targets, seed=seed),
            "square": Square(eps, norm, queries=QUERIES, seed=seed),
        }
    if version == "rand":
        return {
            "apgd-ce": EOT(apgd_ce, EOT_DRAWS),
            "apgd-dlr": EOT(APGD(eps, norm, steps=STEPS, loss="dlr", seed=seed), EOT_DRAWS),
            "square": Square(eps, norm, queries=QUERIES, eot_samples=EOT_DRAWS, seed=seed),
        }
    return fast(eps, norm, targets, seed)


def fast(eps: float, norm: StepNorm, targets: int, seed: int) -> dict[str, AttackFn]:
    """The ``fast`` cascade for ``targets`` target classes (its runs past the last class left out)."""
    attacks: dict[str, AttackFn] = {}
    skip = 0
    for name, (count, share) in zip(FAST_NAMES, FAST_STAGES, strict=True):
        count = min(count, targets - skip)
        if count <= 0:
            break
        run: Attack = APGDT(
            eps, norm, steps=STEPS, num_target_classes=count, ranking="linear", skip_targets=skip, seed=seed
        )
        attacks[name] = run if share == 1.0 else Closest(run, share)
        skip += count
    return attacks


def with_preset(
    attacks: Mapping[str, AttackFn] | None, preset: Version | None, epsilons: Epsilons, norm: StepNorm
) -> dict[str, AttackFn]:
    """``attacks`` after the attacks of ``preset`` built at the largest epsilon of the grid in ``norm``.

    Raises:
        ValueError: if a preset is given without epsilons in ``norm``, or an attack name is in both.
    """
    attacks = dict(attacks or {})
    if preset is None:
        return attacks
    grid = epsilons.get(norm) if isinstance(epsilons, Mapping) else epsilons
    if not grid:
        raise ValueError(f"preset {preset!r} needs epsilons in {norm} (the grid it is swept over).")
    built = autoattack(max(grid), norm, preset)
    clash = sorted(set(built) & set(attacks))
    if clash:
        raise ValueError(f"attack names {clash} are taken by preset {preset!r}: rename them.")
    return {**built, **attacks}
