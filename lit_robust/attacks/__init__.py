"""Pure-torch adversarial attacks and attack wrappers (no Lightning imports).

Every attack is called as ``x_adv = attack(model, x, y)``; see :mod:`lit_robust.attacks.base` for the
contract. Bounded attacks: :class:`FGSM`, :class:`LL`, :class:`BIM`, :class:`ILL`, :class:`MIM`,
:class:`PGD`, :class:`APGD`. Minimum-norm attacks: :class:`CarliniWagnerL2`, :class:`EAD`,
:class:`DeepFool`, :class:`HighConfidence`. Wrappers: :class:`EOT` (an attack around an attack) and
:class:`BPDA` (a model around a model).
"""

from lit_robust.attacks.apgd import APGD
from lit_robust.attacks.base import Attack, Model, Norm, clip_norm, flat_norm, project
from lit_robust.attacks.bim import BIM, ILL
from lit_robust.attacks.binary_search import BinarySearchAttack
from lit_robust.attacks.bpda import BPDA, straight_through
from lit_robust.attacks.carlini_wagner import CarliniWagnerL2
from lit_robust.attacks.deepfool import DeepFool
from lit_robust.attacks.ead import EAD
from lit_robust.attacks.eot import EOT
from lit_robust.attacks.fgsm import FGSM, LL
from lit_robust.attacks.gradient import Expectation, input_gradient
from lit_robust.attacks.high_confidence import HighConfidence
from lit_robust.attacks.iterative import IterativeAttack, ascend
from lit_robust.attacks.mim import MIM
from lit_robust.attacks.pgd import PGD
from lit_robust.attacks.targets import TargetedAttack, TargetRule, select_targets

__all__ = [
    "APGD",
    "BIM",
    "BPDA",
    "EAD",
    "EOT",
    "FGSM",
    "ILL",
    "LL",
    "MIM",
    "PGD",
    "Attack",
    "BinarySearchAttack",
    "CarliniWagnerL2",
    "DeepFool",
    "Expectation",
    "HighConfidence",
    "IterativeAttack",
    "Model",
    "Norm",
    "TargetRule",
    "TargetedAttack",
    "ascend",
    "clip_norm",
    "flat_norm",
    "input_gradient",
    "project",
    "select_targets",
    "straight_through",
]
