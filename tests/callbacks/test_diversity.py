"""EnsembleDiversity: val/interrater_agreement of fixed sampled models, inside the validation loop."""

from __future__ import annotations

import pytest
import torch

from lit_robust.callbacks import EnsembleDiversity
from lit_robust.defenses import RandomLayerSampling
from lit_robust.metrics import InterraterAgreement
from lit_robust.models import MLP
from tests.callbacks.conftest import NUM_CLASSES, make_data, make_model, make_trainer


def make_ensemble(data) -> RandomLayerSampling:
    backbone = MLP(in_channels=1, num_classes=NUM_CLASSES, input_size=8, hidden_sizes=[16, 16])
    return RandomLayerSampling(backbone, num_classes=NUM_CLASSES, mean=list(data.mean), std=list(data.std))


def test_logs_the_kappa_of_the_same_fixed_sampled_models(tmp_path):
    data = make_data()
    model = make_ensemble(data)
    callback = EnsembleDiversity(samples=5, seed=7)
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[callback], num_sanity_val_steps=0)
    trainer.fit(model, data)
    logged = trainer.callback_metrics["val/interrater_agreement"]
    paths = model.ensemble.sample_paths(5, torch.Generator().manual_seed(7))
    expected = InterraterAgreement(5)
    model.eval()
    with torch.no_grad():
        for batch in data.val_dataloader():
            x, y = data.on_after_batch_transfer(batch, 0)
            expected.update(torch.stack([model.sampled_model(p)(x).argmax(-1) for p in paths]), y)
    assert logged.item() == pytest.approx(expected.compute().item())
    assert -1.0 <= logged.item() <= 1.0


def test_every_n_epochs_and_max_batches_bound_the_work(tmp_path):
    data = make_data()
    callback = EnsembleDiversity(samples=3, every_n_epochs=2, max_batches=1)
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[callback], num_sanity_val_steps=0)
    trainer.fit(make_ensemble(data), data)
    assert "val/interrater_agreement" not in trainer.callback_metrics
    trainer.validate(trainer.lightning_module, data)
    assert "val/interrater_agreement" in trainer.callback_metrics
    assert callback.metric.total == 0  # reset after logging


def test_other_models_are_refused(tmp_path):
    data = make_data()
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[EnsembleDiversity()])
    with pytest.raises(TypeError, match="RandomLayerSampling"):
        trainer.fit(make_model(data), data)
    with pytest.raises(ValueError, match="every_n_epochs"):
        EnsembleDiversity(every_n_epochs=0)
