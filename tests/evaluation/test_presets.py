"""AutoAttack presets: their attacks and settings, and the fast cascade on a trained model."""

from __future__ import annotations

import pytest

from lit_robust.attacks import APGD, APGDT, EOT, FAB, Square
from lit_robust.evaluation import autoattack, evaluate_robustness
from lit_robust.evaluation.focus import Closest


def test_standard_is_autoattack_with_its_settings():
    attacks = autoattack(0.03, "L2", "standard", num_classes=100)
    assert list(attacks) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    ce, apgdt, fab, square = attacks.values()
    assert isinstance(ce, APGD) and ce.loss == "ce" and ce.steps == 100 and ce.norm == "L2"
    assert isinstance(apgdt, APGDT) and apgdt.steps == 100 and apgdt.num_target_classes == 9
    assert isinstance(fab, FAB) and fab.targeted and fab.num_target_classes == 9 and fab.eps == 0.03
    assert isinstance(square, Square) and square.queries == 5000
    assert autoattack(0.1, num_classes=4)["apgd-t"].num_target_classes == 3


def test_rand_runs_the_gradient_attacks_under_eot_and_square_over_draws():
    attacks = autoattack(0.1, version="rand")
    assert list(attacks) == ["apgd-ce", "apgd-dlr", "square"]
    assert all(isinstance(a, EOT) and a.samples == 20 for a in list(attacks.values())[:2])
    assert attacks["apgd-dlr"].attack.loss == "dlr" and attacks["square"].eot_samples == 20


@pytest.mark.parametrize(
    ("arguments", "message"), [({"version": "full"}, "version"), ({"norm": "L1"}, "norm")]
)
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        autoattack(0.1, **arguments)


def test_the_fast_cascade_is_about_as_strong_as_apgd_ce(blobs_model, blobs):
    x, y = blobs
    fast = evaluate_robustness(blobs_model, x, y, autoattack(0.3, version="fast", num_classes=5), [0.3],
                               worst_case_only=True)  # fmt: skip
    ce = evaluate_robustness(blobs_model, x, y, {"apgd-ce": APGD(0.3)}, [0.3])
    assert fast.accuracy("worst", 0.3) <= ce.accuracy("apgd-ce", 0.3) + 0.02
    assert ce.accuracy("apgd-ce", 0.3) < fast.clean_accuracy
    names = [p.name for p in fast.plan.cascade]
    assert names == ["apgd-t-nearest", "apgd-t-next", "apgd-t-rest"]  # 1, 2 and the last 1 of 4 targets
    assert fast.passes()[1] == sum(fast.passes(n)[1] for n in names) > 0


def test_fast_runs_apgdt_over_the_linear_ranking_in_three_shares_of_the_points():
    attacks = autoattack(0.1, "L2", "fast")
    first, second, third = attacks.values()
    assert isinstance(first, APGDT) and first.ranking == "linear" and first.norm == "L2"
    assert (first.num_target_classes, first.skip_targets) == (1, 0)
    assert isinstance(second, Closest) and second.margin_fraction == 0.2
    assert (second.attack.num_target_classes, second.attack.skip_targets) == (2, 1)
    assert isinstance(third, Closest) and third.margin_fraction == 0.02
    assert (third.attack.num_target_classes, third.attack.skip_targets, third.attack.steps) == (6, 3, 100)
    assert list(autoattack(0.1, version="fast", num_classes=3)) == ["apgd-t-nearest", "apgd-t-next"]
    assert list(autoattack(0.1, version="fast", num_classes=2)) == ["apgd-t-nearest"]
