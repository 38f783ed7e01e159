"""The threat-model cases of Pixel Redrawn (Section 3.4) as settings of :func:`evaluate_robustness`.

With ``F`` the classifier, ``PR`` the redrawer and ``A`` an attack:

- Normal: ``F(PR(x))``, no attack;
- A: the attacker ignores PR, PR at test time: ``F(PR(A(F, x)))``;
- B: no PR at test time: ``F(A(F, x))``;
- C: the attacker knows PR, no PR at test time: ``F(A(F, PR, x))``;
- D: as C, then PR at test time: ``F(PR(A(F, PR, x)))``.

Each case is a judged model, the model the examples are crafted on (``None``: the judged one, white-box) and
a wrapper of the attacks; :func:`evaluate_cases` runs each through :func:`evaluate_robustness`. ``F(PR(.))``
is :class:`~lit_robust.attacks.BPDA` ``(F, PR)``: exact in the forward pass, the identity in place of PR in
the backward pass. An attacker who knows PR is taken two ways, labelled:

- ``"adaptive"``: attacks ``F(PR(.))`` through BPDA with :class:`~lit_robust.attacks.EOT` over the random
  redraw. Its examples stay in the threat model (the eps-ball around ``x``): the honest numbers.
- ``"paper"``: the original code's approximation, which never differentiates through PR: it attacks ``F``
  starting from ``PR(x)`` (:class:`RedrawnStart`). The examples lie in the eps-ball around ``PR(x)``, not
  around ``x`` (the paper notes their large distortion); these numbers compare with the paper's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lit_robust.attacks.base import Model, Norm
from lit_robust.attacks.bpda import BPDA
from lit_robust.attacks.eot import EOT
from lit_robust.evaluation.evaluate import evaluate_robustness
from lit_robust.evaluation.plan import AttackFn
from lit_robust.evaluation.report import RobustnessReport

CASE_NAMES = ("normal", "A", "B", "C (paper)", "D (paper)", "C (adaptive)", "D (adaptive)")


class RedrawnStart:
    """The original code's attack "with knowledge of PR": ``attack(model, PR(x), y)``.

    Not a threat-model-respecting attack: the result is within the attack's radius of ``PR(x)``, not of
    ``x``. Radius, norm and the minimum-norm flag are the wrapped attack's, so evaluation plans treat it as
    that attack.

    Args:
        attack: the attack run from the redrawn images.
        redrawer: the Pixel Redrawn transformation.
    """

    def __init__(self, attack: AttackFn, redrawer: nn.Module) -> None:
        self.attack = attack
        self.redrawer = redrawer

    @property
    def eps(self) -> float | None:
        return getattr(self.attack, "eps", None)

    @property
    def norm(self) -> Norm | None:
        return getattr(self.attack, "norm", None)

    @property
    def minimum_norm(self) -> bool:
        return getattr(self.attack, "minimum_norm", False)

    def with_eps(self, eps: float) -> RedrawnStart:
        return RedrawnStart(self.attack.with_eps(eps), self.redrawer)

    def __call__(self, model: Model, x: Tensor, y: Tensor) -> Tensor:
        with torch.no_grad():
            start = self.redrawer(x)
        return self.attack(model, start, y)

    def __repr__(self) -> str:
        return f"RedrawnStart({self.attack!r})"


@dataclass(frozen=True)
class Case:
    """One threat-model case.

    Attributes:
        name: one of :data:`CASE_NAMES`.
        formula: the paper's notation.
        judged: the model whose accuracy is reported.
        source: the model the examples are crafted on; ``None`` for the judged model (white-box).
        wrap: applied to every attack of the case (identity, :class:`RedrawnStart` or ``EOT``).
    """

    name: str
    formula: str
    judged: Model
    source: Model | None
    wrap: Callable[[AttackFn], AttackFn]


def pixel_redrawn_cases(classifier: Model, redrawer: nn.Module, eot_samples: int = 10) -> dict[str, Case]:
    """Every case of :data:`CASE_NAMES` for the classifier ``F`` (no PR inside) and the redrawer ``PR``."""
    redrawn = BPDA(classifier, redrawer)

    def same(attack: AttackFn) -> AttackFn:
        return attack

    def paper(attack: AttackFn) -> AttackFn:
        return RedrawnStart(attack, redrawer)

    def adaptive(attack: AttackFn) -> AttackFn:
        return EOT(attack, eot_samples)

    cases = (
        Case("normal", "F(PR(x))", redrawn, None, same),
        Case("A", "F(PR(A(F, x)))", redrawn, classifier, same),
        Case("B", "F(A(F, x))", classifier, None, same),
        Case("C (paper)", "F(A(F, PR(x)))", classifier, None, paper),
        Case("D (paper)", "F(PR(A(F, PR(x))))", redrawn, classifier, paper),
        Case("C (adaptive)", "F(A(EOT BPDA F o PR, x))", classifier, redrawn, adaptive),
        Case("D (adaptive)", "F(PR(A(EOT BPDA F o PR, x)))", redrawn, None, adaptive),
    )
    return {case.name: case for case in cases}


def evaluate_cases(
    classifier: Model,
    redrawer: nn.Module,
    x: Tensor,
    y: Tensor,
    attacks: Mapping[str, AttackFn],
    epsilons: Sequence[float] | None = None,
    cases: Sequence[str] = CASE_NAMES,
    eot_samples: int = 10,
    seed: int = 0,
    **kwargs: Any,
) -> dict[str, RobustnessReport]:
    """Runs :func:`evaluate_robustness` for each of ``cases`` (``"normal"`` evaluates no attack).

    Args:
        classifier: ``F``, logits of [0, 1] images without PR (for example a ``RobustClassifier``).
        redrawer: ``PR``, a :class:`~lit_robust.models.PixelRedrawer`.
        x: images in [0, 1].
        y: labels.
        attacks: the attacks by name; each case wraps them (see :func:`pixel_redrawn_cases`).
        epsilons: the epsilon grid (``None``: the attacks' own).
        cases: which of :data:`CASE_NAMES` to run.
        eot_samples: draws of PR averaged per gradient in the adaptive cases.
        seed: seeds torch's global RNG (the redraws) before each case, and the attacks' generators.
        **kwargs: passed to :func:`evaluate_robustness` (``batch_size``, ``verbose``...).

    Returns:
        Reports by case name; read them with :func:`case_accuracy`.
    """
    table = pixel_redrawn_cases(classifier, redrawer, eot_samples)
    unknown = [name for name in cases if name not in table]
    if unknown:
        raise ValueError(f"cases must be among {CASE_NAMES}, got {unknown}.")
    reports = {}
    for name in cases:
        case = table[name]
        torch.manual_seed(seed)
        wrapped = {} if name == "normal" else {key: case.wrap(attack) for key, attack in attacks.items()}
        reports[name] = evaluate_robustness(
            case.judged, x, y, wrapped, epsilons, source=case.source, seed=seed, **kwargs
        )
    return reports


def case_accuracy(report: RobustnessReport, attack: str | None = None, eps: float | None = None) -> float:
    """Clean accuracy (``attack=None``) or the accuracy under ``attack`` at ``eps`` of a case's report,
    white-box or transfer, whichever the case ran (minimum-norm attacks: ``eps=inf``, where they failed)."""
    if attack is None:
        return report.clean_accuracy
    return report.accuracy(attack, eps, transfer=report.white_box is None)
