"""Loading a defense's checkpoint into a DefendedModel: both key layouts, and plain backbone weights."""

from __future__ import annotations

import pytest
import torch

from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP, DefendedModel, defended_state_dict, load_defended_weights


def classifier() -> RobustClassifier:
    return RobustClassifier(MLP(1, 3, 8, [16]), num_classes=3, mean=[0.3], std=[0.2])


def test_the_current_and_the_old_layout_give_the_defended_models_names():
    state = classifier().state_dict()
    old = {key.removeprefix("model."): value for key, value in state.items()}
    for layout in (state, old):
        names = set(defended_state_dict(layout))
        assert names == set(DefendedModel(MLP(1, 3, 8, [16])).state_dict())


def test_a_checkpoint_and_a_plain_backbone_state_dict_both_load(tmp_path):
    trained = classifier()
    torch.save({"state_dict": trained.state_dict()}, tmp_path / "model.ckpt")
    torch.save(trained.backbone.state_dict(), tmp_path / "backbone.pt")
    x = torch.rand(4, 1, 8, 8)
    from_checkpoint = load_defended_weights(DefendedModel(MLP(1, 3, 8, [16])), tmp_path / "model.ckpt")
    torch.testing.assert_close(from_checkpoint(x), trained(x))
    from_backbone = load_defended_weights(
        DefendedModel(MLP(1, 3, 8, [16]), 0.3, 0.2), tmp_path / "backbone.pt"
    )
    torch.testing.assert_close(from_backbone(x), trained(x))


def test_a_missing_checkpoint_is_named():
    with pytest.raises(FileNotFoundError, match=r"nowhere\.ckpt"):
        load_defended_weights(DefendedModel(MLP(1, 3, 8, [16])), "nowhere.ckpt")
