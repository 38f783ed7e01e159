"""`SampledPathTransfer`: the paper's protocol of random layer sampling."""

from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import FGSM
from lit_robust.callbacks import SampledPathTransfer
from lit_robust.defenses import RandomLayerSampling
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import MLP
from tests.callbacks.conftest import NUM_CLASSES, first_points, make_trainer


def make_sampling(data) -> RandomLayerSampling:
    backbone = MLP(in_channels=1, num_classes=NUM_CLASSES, input_size=8, hidden_sizes=[16, 16])
    return RandomLayerSampling(backbone, num_classes=NUM_CLASSES, mean=list(data.mean), std=list(data.std))


def test_examples_come_from_one_fixed_path_and_the_defense_judges(tmp_path, data):
    torch.manual_seed(0)
    model = make_sampling(data).eval()
    callback = SampledPathTransfer({"fgsm": FGSM(0.2)}, [0.2], num_samples=24, path_seed=3, log_images=False)
    torch.manual_seed(5)
    results = make_trainer(tmp_path, callbacks=[callback]).validate(model, datamodule=data, verbose=False)[0]
    path = model.ensemble.sample_paths(1, torch.Generator().manual_seed(3))[0]
    x, y = first_points(data.val_data, 24)
    torch.manual_seed(5)
    report = evaluate_robustness(model, x, y, {"fgsm": FGSM(0.2)}, [0.2], source=model.sampled_model(path))
    assert results["val/transfer_acc/fgsm/eps=0.2"] == pytest.approx(
        report.accuracy("fgsm", 0.2, True), abs=0.1
    )
    assert 0.0 <= results["val/transfer_acc/fgsm/eps=0.2"] <= 1.0


def test_it_needs_random_layer_sampling(tmp_path, data, trained):
    with pytest.raises(TypeError, match="RandomLayerSampling"):
        make_trainer(tmp_path, callbacks=[SampledPathTransfer({"fgsm": FGSM(0.1)})]).validate(
            trained, datamodule=data
        )
