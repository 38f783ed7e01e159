"""Target selection and the batched linearised boundaries it relies on."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.functional import jacobian

from lit_robust.attacks import select_targets
from lit_robust.attacks.linear import boundaries, other_classes

from .conftest import NUM_CLASSES


def logits_of(model: nn.Module, x: Tensor) -> Tensor:
    with torch.no_grad():
        return model(x)


def test_least_likely_and_given_rules(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data
    assert torch.equal(select_targets(model, x, y, "least_likely"), logits_of(model, x).argmin(dim=1))
    assert select_targets(model, x, y, "given") is y


def test_random_rule_avoids_the_label_covers_the_others_and_follows_the_generator(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data
    first = select_targets(model, x, y, "random", torch.Generator().manual_seed(0))
    again = select_targets(model, x, y, "random", torch.Generator().manual_seed(0))
    other = select_targets(model, x, y, "random", torch.Generator().manual_seed(1))
    assert (first != y).all() and torch.equal(first, again) and not torch.equal(first, other)
    assert set(first.tolist()) == set(range(NUM_CLASSES))


def test_closest_rule_matches_a_per_sample_jacobian(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:16], data[1][:16]
    chosen = select_targets(model, x, y, "closest")
    for i in range(x.shape[0]):
        logits = logits_of(model, x[i : i + 1])[0]
        pred = logits.argmax()
        rows = jacobian(lambda v: model(v.unsqueeze(0))[0], x[i]).flatten(1)
        distance = (logits - logits[pred]).abs() / (rows - rows[pred]).norm(dim=1)
        distance[pred] = float("inf")
        assert chosen[i] == distance.argmin()


def test_boundaries_returns_logit_gaps_and_their_gradients(
    model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:8], data[1][:8]
    candidates = other_classes(logits_of(model, x), y, 3)
    f, w, logits = boundaries(model, x, y, candidates)
    assert f.shape == (8, 3) and w.shape == (8, 3, *x.shape[1:])
    torch.testing.assert_close(logits, logits_of(model, x))
    for i in range(x.shape[0]):
        rows = jacobian(lambda v: model(v.unsqueeze(0))[0], x[i])
        for j, k in enumerate(candidates[i]):
            torch.testing.assert_close(f[i, j], logits[i, k] - logits[i, y[i]])
            torch.testing.assert_close(w[i, j], rows[k] - rows[y[i]])
