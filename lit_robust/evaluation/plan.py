"""Which attack runs at which epsilons: the evaluation plan built from ``attacks`` and ``epsilons``.

Attacks are any callables ``(model, x, y) -> x_adv``. Three kinds are told apart by their attributes:

- *minimum-norm* (``attack.minimum_norm`` is true: DeepFool, C&W, HighConfidence): run once, unbounded;
  a point is robust at ``eps`` when the attack failed on it or its perturbation's norm (in
  ``attack.norm``) exceeds ``eps``, so it gives a robust accuracy at every epsilon of its norm for free,
  plus one at ``eps = inf`` (the points it failed on) and rho;
- *bounded* (a number ``eps`` and a ``with_eps`` method, like every lit_robust bounded attack): swept over
  the epsilons of its norm with ``with_eps``;
- *fixed* (anything else, for example a torchattacks attack behind a two-line adapter): run once; its
  result is stored at its ``eps`` attribute, or at ``None`` when it has none.

In white-box evaluation, attacks with an ``early_stop`` attribute (lit_robust's iterative attacks) run as a
copy with ``early_stop=True``: each point stops at the first iterate that fools the model. That loses no
strength for robust accuracy on a deterministic model (a fooled point is broken, and the point is never
attacked further) and saves the remaining steps; the attack objects passed in are not changed. Transfer
evaluation keeps every step (stopping when the *source* is fooled would weaken the transferred examples), and
so does ``EOT``, whose inner attack is left as given: evaluate randomised defenses through ``EOT``.

The epsilon grid is in the norm ``norm`` (default L-inf). ``epsilons`` is either that grid (a list) or a
mapping whose keys are norm names (``{"Linf": [...], "L2": [...]}``: the list of every attack of that
norm) or names of attacks outside the grid's norm (their own list). Attacks in the grid's norm always use
the grid, so that the worst case at each grid epsilon is taken over all of them; ``epsilons=None``
evaluates each bounded attack at its own ``eps`` and the grid is the set of those epsilons.

With ``worst_case_only`` the bounded attacks of the grid's norm form a cascade that gives the worst case
alone: at each grid epsilon, in ascending order, they run in the order given, each on the points that no
attack has broken yet at this or a smaller epsilon (an adversarial example inside a smaller ball is inside
every larger one). A point skipped this way is broken in the worst case whatever the later attacks would
do, so the worst case is the same as, or lower than, with every attack on every point (lower only through
the attacks' randomness); their own per-attack columns are not computed. Put cheap attacks first.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from torch import Tensor

from lit_robust.attacks.base import Attack, Norm

AttackFn = Attack | Callable[..., Tensor]
"""An attack: ``attack(model, x, y) -> x_adv``. lit_robust ``Attack`` objects (which also take ``generator=``)
are listed first so that LightingCLI configs can give them as ``class_path``/``init_args``."""
Eps = float | None
Epsilons = Sequence[float] | Mapping[str, Sequence[float]] | None
WORST = "worst"
UNBOUNDED_LINF = 1.0
"""An L-inf radius that contains every image: accuracy there must be 0 against a working attack."""


@dataclass(frozen=True)
class PlannedAttack:
    """One attack of an evaluation.

    Attributes:
        name: key of the attack in the ``attacks`` mapping, used in logging names.
        attack: the callable.
        norm: the attack's norm (``None`` for a callable that declares none).
        epsilons: ascending epsilons it is evaluated at; ``(None,)`` or ``(eps,)`` for a fixed attack.
        kind: ``"minimum_norm"``, ``"bounded"`` or ``"fixed"``.
        in_worst: whether it counts in the worst case (its norm is the grid's).
    """

    name: str
    attack: AttackFn
    norm: Norm | None
    epsilons: tuple[Eps, ...]
    kind: str
    in_worst: bool

    def at(self, eps: Eps, early_stop: bool = False) -> AttackFn:
        """The attack with radius ``eps`` (bounded attacks), or the attack itself; with ``early_stop``, a copy
        that stops each point at its first fooling iterate where the attack supports it."""
        attack = self.attack.with_eps(eps) if self.kind == "bounded" else self.attack
        return _stopping_early(attack) if early_stop else attack


@dataclass(frozen=True)
class EvaluationPlan:
    """The attacks of an evaluation and the epsilon grid of its worst case.

    Attributes:
        attacks: the planned attacks, in the order given.
        norm: the norm of the grid.
        grid: ascending epsilons of the worst-case column.
        added_unbounded: whether :data:`UNBOUNDED_LINF` was added for the sanity checks.
        worst_case_only: the grid's bounded attacks run as a cascade for the worst case alone.
    """

    attacks: tuple[PlannedAttack, ...]
    norm: Norm
    grid: tuple[float, ...]
    added_unbounded: bool = False
    worst_case_only: bool = False

    @property
    def cascade(self) -> tuple[PlannedAttack, ...]:
        """The attacks run as the worst-case cascade (none unless ``worst_case_only``)."""
        if not self.worst_case_only:
            return ()
        return tuple(p for p in self.attacks if p.kind == "bounded" and p.in_worst)

    def __getitem__(self, name: str) -> PlannedAttack:
        return next(p for p in self.attacks if p.name == name)


def attack_kind(attack: AttackFn) -> str:
    """``"minimum_norm"``, ``"bounded"`` or ``"fixed"`` (see the module docstring)."""
    if getattr(attack, "minimum_norm", False):
        return "minimum_norm"
    if isinstance(getattr(attack, "eps", None), (int, float)) and callable(getattr(attack, "with_eps", None)):
        return "bounded"
    return "fixed"


def format_eps(eps: Eps) -> str:
    """The epsilon as it appears in logging names: ``0.0313725``, ``inf``."""
    return f"{eps:g}"


def make_plan(
    attacks: Mapping[str, AttackFn],
    epsilons: Epsilons,
    norm: Norm = "Linf",
    add_unbounded: bool = False,
    worst_case_only: bool = False,
) -> EvaluationPlan:
    """Validates ``attacks`` and ``epsilons`` and decides what runs where.

    Args:
        attacks: attacks by name.
        epsilons: the grid, a mapping of lists (see the module docstring), or ``None``.
        norm: norm of the grid.
        add_unbounded: add ``eps = 1`` to every L-inf sweep (and an L-inf grid) for the sanity checks.
        worst_case_only: run the grid's bounded attacks as a cascade for the worst case alone.

    Raises:
        ValueError: for a reserved or malformed name, an unknown key in ``epsilons``, a negative epsilon, a
            bounded attack with no epsilons for its norm, or a list given for an attack that cannot use it.
    """
    if norm not in get_args(Norm):
        raise ValueError(f"norm must be one of {get_args(Norm)}, got {norm!r}.")
    for name in attacks:
        if name == WORST or "/" in name or not name:
            raise ValueError(
                f"attack name {name!r} is not allowed: it must be non-empty, not {WORST!r}, no '/'."
            )
    lists = _epsilon_lists(attacks, epsilons, norm)
    extra = (UNBOUNDED_LINF,) if add_unbounded else ()
    own_lists = {
        name: _own_epsilons(name, attack, lists, epsilons, norm, extra) for name, attack in attacks.items()
    }
    grid = lists.get(norm)
    if grid is None:
        grid = [e for name, a in attacks.items() if getattr(a, "norm", None) == norm for e in own_lists[name]]
    grid = _ascending(
        [e for e in grid if e is not None] + list(extra if norm == "Linf" and grid else ()), WORST
    )
    planned = []
    for name, attack in attacks.items():
        kind, attack_norm = attack_kind(attack), getattr(attack, "norm", None)
        in_worst = attack_norm == norm
        eps_list = grid if kind == "minimum_norm" and in_worst else own_lists[name]
        planned.append(PlannedAttack(name, attack, attack_norm, _ascending(eps_list, name), kind, in_worst))
    added = add_unbounded and norm == "Linf" and bool(grid)
    return EvaluationPlan(tuple(planned), norm, grid, added, worst_case_only)


def _own_epsilons(
    name: str, attack: AttackFn, lists: dict, epsilons: Epsilons, norm: Norm, extra: tuple[float, ...]
) -> list[Eps]:
    """One attack's epsilons before the grid is known (minimum-norm attacks of the grid's norm get it)."""
    kind, attack_norm = attack_kind(attack), getattr(attack, "norm", None)
    if name in lists and attack_norm == norm:
        raise ValueError(
            f"epsilons names attack {name!r}, but it is in the grid's norm {norm}: it is swept over the grid "
            f"(epsilons[{norm!r}] or the plain list) so that the worst case covers it."
        )
    own = lists.get(name, lists.get(attack_norm))
    if kind == "minimum_norm":
        return list(own or ())
    if kind == "fixed":
        if name in lists:
            raise ValueError(f"attack {name!r} has no with_eps method, so it cannot be swept over epsilons.")
        return [getattr(attack, "eps", None)]
    if own is None and epsilons is not None:
        raise ValueError(
            f"attack {name!r} is bounded in {attack_norm} but epsilons gives no list for it: pass "
            f"epsilons={{{norm!r}: [...], {attack_norm!r}: [...]}} or name it: {{{name!r}: [...]}}."
        )
    own = own if own is not None else [float(attack.eps)]
    return [*own, *(extra if attack_norm == "Linf" else ())]


def _stopping_early(attack: AttackFn) -> AttackFn:
    if getattr(attack, "early_stop", None) is not False:
        return attack
    attack = copy.copy(attack)
    attack.early_stop = True
    return attack


def _epsilon_lists(attacks: Mapping[str, AttackFn], epsilons: Epsilons, norm: Norm) -> dict:
    if epsilons is None:
        return {}
    if not isinstance(epsilons, Mapping):
        return {norm: list(epsilons)}
    unknown = set(epsilons) - set(attacks) - set(get_args(Norm))
    if unknown:
        raise ValueError(
            f"epsilons has keys {sorted(unknown)} that are neither attack names ({list(attacks)}) nor norms "
            f"{get_args(Norm)}."
        )
    return {key: list(values) for key, values in epsilons.items()}


def _ascending(values: Sequence[Eps], name: str) -> tuple[Eps, ...]:
    if any(v is None for v in values):
        return (None,)
    floats = sorted({float(v) for v in values})
    if any(v < 0 or math.isnan(v) for v in floats):
        raise ValueError(f"epsilons of {name!r} must be >= 0, got {floats}.")
    if len({format_eps(v) for v in floats}) != len(floats):
        raise ValueError(f"epsilons of {name!r} differ only beyond 6 significant digits: {floats}.")
    return tuple(floats)
