from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_robust.losses import TripletRegularizer, select_negatives, triplet_regularization


def test_triplet_regularization_matches_the_hinge_by_hand():
    anchor = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    positive = torch.tensor([[1.0, 0.5], [2.0, 0.0]])  # Linf distances 1 and 2
    negative = torch.tensor([[0.0, 3.0], [0.0, 1.0]])  # Linf distances 3 and 1
    # max(1 - 3 + 1, 0) = 0 and max(2 - 1 + 1, 0) = 2: mean 1
    assert triplet_regularization(anchor, positive, negative, alpha=1.0).item() == pytest.approx(1.0)
    # L2: max(sqrt(1.25) - 3 + 1, 0) = 0 and 2
    assert triplet_regularization(anchor, positive, negative, 1.0, "L2").item() == pytest.approx(1.0)
    # L1: max(1.5 - 3 + 0.5, 0) = 0 and max(2 - 1 + 0.5, 0) = 1.5
    assert triplet_regularization(anchor, positive, negative, 0.5, "L1").item() == pytest.approx(0.75)


def test_masked_triplets_contribute_zero_but_count_in_the_mean():
    anchor = torch.zeros(2, 2)
    positive = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    negative = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    mask = torch.tensor([True, False])
    assert triplet_regularization(anchor, positive, negative, 1.0, mask=mask).item() == pytest.approx(1.0)


def test_negatives_come_from_the_predicted_class_when_the_batch_has_one():
    labels = torch.tensor([0, 1, 2, 2, 1])
    predicted = torch.tensor([2, 1, 1, 0, 0])
    for seed in range(20):
        index, valid = select_negatives(labels, predicted, torch.Generator().manual_seed(seed))
        assert valid.all()
        # examples 0, 2, 3 and 4 were pushed to a class present in the batch; example 1's attack failed
        assert (labels[index[[0, 2, 3, 4]]] == predicted[[0, 2, 3, 4]]).all()
        assert labels[index[1]] != labels[1]


def test_negative_falls_back_to_any_other_label_and_is_random():
    labels = torch.tensor([0, 1, 2, 3])
    predicted = torch.tensor([5, 1, 2, 3])  # class 5 is not in the batch; the others failed
    draws = [select_negatives(labels, predicted, torch.Generator().manual_seed(s))[0] for s in range(40)]
    chosen = {int(index[0]) for index in draws}
    assert chosen == {1, 2, 3}


def test_a_single_class_batch_has_no_valid_negative():
    index, valid = select_negatives(torch.tensor([4, 4, 4]), torch.tensor([1, 4, 0]))
    assert not valid.any()
    assert index.tolist() == [0, 1, 2]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=12))
def test_valid_negatives_always_have_another_label(pairs):
    labels = torch.tensor([p[0] for p in pairs])
    predicted = torch.tensor([p[1] for p in pairs])
    index, valid = select_negatives(labels, predicted)
    assert (labels[index][valid] != labels[valid]).all()
    assert (valid == (labels.unsqueeze(0) != labels.unsqueeze(1)).any(dim=1)).all()


def test_regularizer_is_weighted_and_differentiable_in_all_logits():
    torch.manual_seed(0)
    adv = torch.randn(2, 3, requires_grad=True)
    clean = torch.randn(2, 3, requires_grad=True)
    labels = torch.tensor([0, 1])  # each example's only possible negative is the other one
    negative = clean.detach()[[1, 0]]
    expected = triplet_regularization(adv.detach(), clean.detach(), negative, alpha=5.0)
    once = TripletRegularizer(weight=1.0, alpha=5.0)(adv, clean, labels)
    twice = TripletRegularizer(weight=2.0, alpha=5.0)(adv, clean, labels)
    assert once.item() == pytest.approx(expected.item())
    assert twice.item() == pytest.approx(2 * expected.item())
    twice.backward()
    assert adv.grad.abs().sum() > 0 and clean.grad.abs().sum() > 0


def test_regularizer_rejects_bad_settings():
    with pytest.raises(ValueError, match="weight and alpha"):
        TripletRegularizer(weight=-1.0)
    with pytest.raises(ValueError, match="norm"):
        TripletRegularizer(norm="L3")  # type: ignore[arg-type]
