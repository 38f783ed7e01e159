from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.defenses import PixelRedrawnClassifier
from lit_robust.models import PixelRedrawer


def defense(phase: str = "both", **kwargs) -> PixelRedrawnClassifier:
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    redrawer = PixelRedrawer(steps=300, redraw_seed=5)
    return PixelRedrawnClassifier(backbone, redrawer, phase=phase, num_classes=3, **kwargs)


def test_test_time_redraw_is_exact_forward_and_straight_through_backward():
    model = defense("test")
    x = torch.rand(4, 1, 4, 4, requires_grad=True)
    redrawn = model.redrawer(x)
    assert torch.allclose(model(x), model.classifier(redrawn))
    (grad,) = torch.autograd.grad(model(x).sum(), x)
    at_redrawn = redrawn.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(model.classifier(at_redrawn).sum(), at_redrawn)
    assert torch.allclose(grad, expected)  # the gradient of F at PR(x): BPDA with the identity
    assert grad.abs().sum() > 0


def test_without_test_phase_forward_is_the_classifier():
    model = defense("train")
    x = torch.rand(4, 1, 4, 4)
    assert torch.equal(model(x), model.classifier(x))


@pytest.mark.parametrize(
    ("phase", "redraw", "expect_redrawn"),
    [("train", True, True), ("both", True, True), ("test", True, False), ("both", False, False)],
)
def test_training_batches_are_redrawn_on_the_fly_unless_precomputed(phase, redraw, expect_redrawn):
    model = defense(phase, redraw_training_batches=redraw)
    x, y = torch.rand(4, 1, 4, 4), torch.tensor([0, 1, 2, 0])
    logits = model.training_loss(x, y).logits
    target = model.classifier(model.redrawer(x) if expect_redrawn else x)
    assert torch.allclose(logits, target)


def test_pr_models_are_buffers_outside_the_optimiser():
    model = defense()
    optimised = {id(p) for group in model.configure_optimizers().param_groups for p in group["params"]}
    assert all(id(b) not in optimised for b in model.redrawer.buffers())
    assert "model.transform.redrawer.weight" in model.state_dict()


def test_bad_phase_is_rejected():
    with pytest.raises(ValueError, match="phase"):
        defense("never")


@pytest.mark.parametrize("phase", ["train", "test"])
def test_checkpoints_of_the_old_layout_load_the_redrawer(phase):
    model = defense(phase)
    renamed = {"model.transform.redrawer.": "redrawer.", "train_redrawer.": "redrawer.", "model.": ""}
    old_layout = {}
    for key, value in model.state_dict().items():
        new = next((p for p in renamed if key.startswith(p)), "")
        old_layout[renamed.get(new, "") + key.removeprefix(new)] = value
    assert "redrawer.weight" in old_layout and "normalize.mean" in old_layout
    restored = defense(phase)
    restored.load_state_dict(old_layout)
    torch.testing.assert_close(restored.redrawer.weight, model.redrawer.weight)
