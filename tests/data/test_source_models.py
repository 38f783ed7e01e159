from __future__ import annotations

import pytest
import torch

from lit_robust.data import SourceModel, train_source
from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP
from tests.synthetic import synthetic_data


def test_training_a_source_fits_the_data_and_freezes_it():
    data = synthetic_data(num_samples=64, num_classes=3, in_channels=1, input_size=8, val_size=0)
    data.setup("fit")
    images, labels = data.train_data
    source = SourceModel(MLP(1, 3, 8, [32]), data.mean, data.std)
    trained = train_source(
        source, data.train_data, 20, 16, 1e-2, torch.Generator(), torch.device("cpu"), False
    )
    accuracy = (trained(images.float() / 255).argmax(dim=1) == labels).float().mean()
    assert accuracy > 0.9
    assert not trained.training and not any(p.requires_grad for p in trained.parameters())


def test_a_classifier_checkpoint_and_a_plain_backbone_state_dict_both_load(tmp_path):
    classifier = RobustClassifier(MLP(1, 3, 8, [16]), num_classes=3, mean=[0.3], std=[0.2])
    torch.save({"state_dict": classifier.state_dict()}, tmp_path / "model.ckpt")
    torch.save(classifier.backbone.state_dict(), tmp_path / "backbone.pt")
    x = torch.rand(4, 1, 8, 8)
    from_checkpoint = SourceModel(MLP(1, 3, 8, [16]), [0.0], [1.0])
    from_checkpoint.load_checkpoint(tmp_path / "model.ckpt")
    torch.testing.assert_close(from_checkpoint(x), classifier(x))
    from_backbone = SourceModel(MLP(1, 3, 8, [16]), [0.3], [0.2])
    from_backbone.load_checkpoint(tmp_path / "backbone.pt")
    torch.testing.assert_close(from_backbone(x), classifier(x))


def test_a_missing_checkpoint_is_named():
    with pytest.raises(FileNotFoundError, match=r"nowhere\.ckpt"):
        SourceModel(MLP(1, 3, 8, [16]), [0.0], [1.0]).load_checkpoint("nowhere.ckpt")
