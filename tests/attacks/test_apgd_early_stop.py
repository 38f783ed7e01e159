"""APGD's early stop drops fooled points from the batch and returns exactly what the full run returns."""

from __future__ import annotations

import copy

import pytest
import torch

from lit_robust.attacks import APGD
from lit_robust.evaluation import make_plan


@pytest.mark.parametrize(
    "options",
    [
        {"eps": 0.1, "steps": 20},
        {"eps": 0.1, "steps": 20, "restarts": 2},
        {"eps": 1.0, "steps": 20, "norm": "L2", "loss": "dlr"},
        {"eps": 0.1, "steps": 20, "targeted": True, "target": "random"},
    ],
)
def test_early_stop_gives_the_full_runs_result(model, data, options):
    x, y = data[0].double(), data[1]
    model = copy.deepcopy(model).double()  # the fixture is shared: convert a copy
    full = APGD(**options)(model, x, y, generator=torch.Generator().manual_seed(0))
    early = APGD(**options, early_stop=True)(model, x, y, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fooled = model(full).argmax(1) != y
    assert fooled.any() and not fooled.all()
    torch.testing.assert_close(early, full, rtol=0, atol=1e-12)


def test_the_evaluation_runs_apgd_with_early_stop():
    plan = make_plan({"apgd": APGD(0.1)}, [0.1])
    assert plan["apgd"].at(0.1, early_stop=True).early_stop
    assert not plan["apgd"].attack.early_stop
