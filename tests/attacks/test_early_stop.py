"""Early stopping per point (used by the evaluation) loses no strength."""

from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import BIM, MIM, PGD, flat_norm


@pytest.mark.parametrize(
    ("attack_class", "options"),
    [
        (PGD, {"eps": 0.1, "steps": 20, "seed": 3}),
        (BIM, {"eps": 0.1, "steps": 10}),
        (MIM, {"eps": 0.1, "steps": 10}),
    ],
)
def test_early_stop_fools_every_point_the_full_attack_fools(model, data, attack_class, options):
    x, y = data
    full = attack_class(**options)(model, x, y)
    early = attack_class(**options, early_stop=True)(model, x, y)
    with torch.no_grad():
        fooled_full = model(full).argmax(1) != y
        fooled_early = model(early).argmax(1) != y
    assert fooled_full.any() and not fooled_full.all()
    # identical trajectories until a point is fooled, after which early stopping keeps that fooling iterate
    assert bool((fooled_early | ~fooled_full).all())
    assert flat_norm(early - x, "Linf").max() <= options["eps"] + 1e-6
    # the points never fooled went through every step, exactly as in the full attack
    torch.testing.assert_close(early[~fooled_early], full[~fooled_early])
