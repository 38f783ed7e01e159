"""How attacks and epsilons become an evaluation plan."""

from __future__ import annotations

import pytest

from lit_robust.attacks import FGSM, PGD, DeepFool
from lit_robust.evaluation import make_plan
from lit_robust.evaluation.plan import UNBOUNDED_LINF


def fixed_attack(model, x, y):
    return x


class FixedWithEps:
    """A callable declaring a radius but no ``with_eps`` (a torchattacks adapter, say)."""

    eps = 0.2
    norm = "Linf"

    def __call__(self, model, x, y):
        return x


def test_a_list_is_the_grid_of_every_attack_in_its_norm():
    plan = make_plan({"fgsm": FGSM(0.3), "pgd": PGD(0.3), "df": DeepFool()}, [0.2, 0.1], norm="Linf")
    assert plan.grid == (0.1, 0.2)
    assert plan["fgsm"].epsilons == plan["pgd"].epsilons == (0.1, 0.2)
    assert plan["df"].kind == "minimum_norm" and plan["df"].epsilons == () and not plan["df"].in_worst


def test_minimum_norm_attacks_of_the_grid_norm_are_read_at_the_grid():
    plan = make_plan({"pgd": PGD(1.0, norm="L2"), "df": DeepFool()}, [0.5, 1.0], norm="L2")
    assert plan["df"].epsilons == (0.5, 1.0) and plan["df"].in_worst


def test_a_bounded_attack_of_another_norm_needs_its_own_list():
    attacks = {"linf": PGD(0.1), "l2": PGD(1.0, norm="L2")}
    with pytest.raises(ValueError, match="'l2' is bounded in L2"):
        make_plan(attacks, [0.1], norm="Linf")
    plan = make_plan(attacks, {"Linf": [0.1, 0.2], "L2": [0.5, 1.0]}, norm="Linf")
    assert plan.grid == (0.1, 0.2) and plan["l2"].epsilons == (0.5, 1.0) and not plan["l2"].in_worst
    plan = make_plan(attacks, {"Linf": [0.1], "l2": [2.0]}, norm="Linf")
    assert plan["l2"].epsilons == (2.0,)


def test_grid_norm_attacks_cannot_have_their_own_list_and_keys_must_be_known():
    with pytest.raises(ValueError, match="grid's norm"):
        make_plan({"pgd": PGD(0.1)}, {"Linf": [0.1], "pgd": [0.2]})
    with pytest.raises(ValueError, match="neither attack names"):
        make_plan({"pgd": PGD(0.1)}, {"Linf": [0.1], "typo": [0.2]})
    with pytest.raises(ValueError, match="cannot be swept"):
        make_plan({"pgd": PGD(0.1), "f": fixed_attack}, {"Linf": [0.1], "f": [0.2]})


def test_fixed_callables_run_once_at_their_own_eps():
    plan = make_plan({"f": FixedWithEps(), "g": fixed_attack}, [0.1])
    assert plan["f"].kind == "fixed" and plan["f"].epsilons == (0.2,) and plan["f"].in_worst
    assert plan["g"].epsilons == (None,) and not plan["g"].in_worst


def test_without_epsilons_each_attack_uses_its_own_and_the_grid_is_their_union():
    plan = make_plan({"a": FGSM(0.1), "b": PGD(0.3), "df": DeepFool()}, None)
    assert plan["a"].epsilons == (0.1,) and plan["b"].epsilons == (0.3,) and plan.grid == (0.1, 0.3)


def test_sanity_checks_add_the_unbounded_linf_epsilon():
    plan = make_plan(
        {"pgd": PGD(0.1), "l2": PGD(1.0, norm="L2")}, {"Linf": [0.1], "L2": [1.0]}, add_unbounded=True
    )
    assert plan.grid == (0.1, UNBOUNDED_LINF) and plan.added_unbounded
    assert plan["pgd"].epsilons == (0.1, UNBOUNDED_LINF) and plan["l2"].epsilons == (1.0,)


@pytest.mark.parametrize("name", ["worst", "a/b", ""])
def test_reserved_or_malformed_names_are_refused(name):
    with pytest.raises(ValueError, match="not allowed"):
        make_plan({name: FGSM(0.1)}, [0.1])


def test_bad_norm_and_negative_epsilons_are_refused():
    with pytest.raises(ValueError, match="norm must be"):
        make_plan({"a": FGSM(0.1)}, [0.1], norm="L3")
    with pytest.raises(ValueError, match=">= 0"):
        make_plan({"a": FGSM(0.1)}, [-0.1, 0.1])


def test_evaluation_copies_stop_early_and_leave_the_given_attack_unchanged():
    attack = PGD(0.1)
    planned = make_plan({"pgd": attack}, [0.2, 0.3])["pgd"]
    swept = planned.at(0.3, early_stop=True)
    assert swept.eps == 0.3 and swept.early_stop
    assert not planned.at(0.3).early_stop  # transfer evaluation keeps every step
    assert attack.eps == 0.1 and not attack.early_stop
