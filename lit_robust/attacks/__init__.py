"""Pure-torch adversarial attacks and attack wrappers (no Lightning imports).

Every attack is called as ``x_adv = attack(model, x, y)``; see :mod:`lit_robust.attacks.base` for the
contract. Bounded attacks: :class:`FGSM`, :class:`LL`, :class:`BIM`, :class:`ILL`, :class:`MIM`,
:class:`PGD`, :class:`APGD`, :class:`APGDT`, :class:`Square` (gradient-free). Minimum-norm attacks:
:class:`CarliniWagnerL2`, :class:`EAD`, :class:`DeepFool`, :class:`HighConfidence`, :class:`FAB` (bounded
when given ``eps``). Wrappers: :class:`EOT` (an attack around an attack) and :class:`BPDA` (a model around
a model). Building blocks for defenses that attack during training: :func:`input_gradient`,
:func:`ascend`, :func:`select_targets`, :func:`closest_class`, :func:`confidence_step`, the losses in
:mod:`~lit_robust.attacks.objectives` and :func:`straight_through`. The prediction of a randomised defense:
:func:`majority_vote`.
"""

from lit_robust.attacks.apgd import APGD
from lit_robust.attacks.apgdt import APGDT
from lit_robust.attacks.base import Attack, Model, Norm, clip_norm, flat_norm, model_logits, project
from lit_robust.attacks.bim import BIM, ILL
from lit_robust.attacks.binary_search import BinarySearchAttack
from lit_robust.attacks.bpda import BPDA, straight_through
from lit_robust.attacks.carlini_wagner import CarliniWagnerL2
from lit_robust.attacks.deepfool import DeepFool
from lit_robust.attacks.ead import EAD, DecisionRule
from lit_robust.attacks.eot import EOT
from lit_robust.attacks.fab import FAB
from lit_robust.attacks.fgsm import FGSM, LL
from lit_robust.attacks.gradient import Expectation, LossFn, input_gradient
from lit_robust.attacks.high_confidence import HighConfidence, confidence_step
from lit_robust.attacks.iterative import IterativeAttack, StepNorm, ascend
from lit_robust.attacks.linear import boundaries, closest_class
from lit_robust.attacks.majority import majority_vote
from lit_robust.attacks.mim import MIM
from lit_robust.attacks.objectives import LossName, ascent_loss, dlr, margin, succeeded, targeted_dlr
from lit_robust.attacks.pgd import PGD
from lit_robust.attacks.square import Square
from lit_robust.attacks.targets import TargetedAttack, TargetRule, select_targets
from lit_robust.attacks.unrolled_high_confidence import UnrolledHighConfidence, straight_through_round

__all__ = [
    "APGD",
    "APGDT",
    "BIM",
    "BPDA",
    "EAD",
    "EOT",
    "FAB",
    "FGSM",
    "ILL",
    "LL",
    "MIM",
    "PGD",
    "Attack",
    "BinarySearchAttack",
    "CarliniWagnerL2",
    "DecisionRule",
    "DeepFool",
    "Expectation",
    "HighConfidence",
    "IterativeAttack",
    "LossFn",
    "LossName",
    "Model",
    "Norm",
    "Square",
    "StepNorm",
    "TargetRule",
    "TargetedAttack",
    "UnrolledHighConfidence",
    "ascend",
    "ascent_loss",
    "boundaries",
    "clip_norm",
    "closest_class",
    "confidence_step",
    "dlr",
    "flat_norm",
    "input_gradient",
    "majority_vote",
    "margin",
    "model_logits",
    "project",
    "select_targets",
    "straight_through",
    "straight_through_round",
    "succeeded",
    "targeted_dlr",
]
