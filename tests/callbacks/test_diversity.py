"""EnsembleDiversity: val/interrater_agreement of repeated sets of distinct sampled models."""

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


def test_logs_the_mean_kappa_of_repeated_sets_of_distinct_sampled_models(tmp_path):
    data = make_data()
    model = make_ensemble(data)  # 3 layers, M=2: 8 paths, all of them in each set
    callback = EnsembleDiversity(samples=8, repeats=3, seed=7)
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[callback], num_sanity_val_steps=0)
    trainer.fit(model, data)
    generator = torch.Generator().manual_seed(7)
    kappas = []
    model.eval()
    for _ in range(3):
        paths = model.ensemble.sample_paths(8, generator, distinct=True)
        assert len({tuple(p) for p in paths.tolist()}) == 8
        expected = InterraterAgreement(8)
        with torch.no_grad():
            for batch in data.val_dataloader():
                x, y = data.on_after_batch_transfer(batch, 0)
                expected.update(torch.stack([model.sampled_model(p)(x).argmax(-1) for p in paths]), y)
        kappas.append(expected.compute())
    kappas = torch.stack(kappas)
    logged = trainer.callback_metrics
    assert logged["val/interrater_agreement"].item() == pytest.approx(kappas.mean().item())
    assert logged["val/interrater_agreement_std"].item() == pytest.approx(kappas.std().item(), abs=1e-6)
    assert -1.0 <= logged["val/interrater_agreement"].item() <= 1.0


def test_more_samples_than_distinct_paths_are_refused(tmp_path):
    data = make_data()
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[EnsembleDiversity(samples=9)])
    with pytest.raises(ValueError, match="9 distinct paths"):
        trainer.validate(make_ensemble(data), data)


def test_every_n_epochs_and_max_batches_bound_the_work(tmp_path):
    data = make_data()
    callback = EnsembleDiversity(samples=3, repeats=2, every_n_epochs=2, max_batches=1)
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[callback], num_sanity_val_steps=0)
    trainer.fit(make_ensemble(data), data)
    assert "val/interrater_agreement" not in trainer.callback_metrics
    trainer.validate(trainer.lightning_module, data)
    assert "val/interrater_agreement" in trainer.callback_metrics
    assert all(metric.total == 0 for metric in callback.metrics)  # reset after logging


def test_other_models_and_bad_arguments_are_refused(tmp_path):
    data = make_data()
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[EnsembleDiversity()])
    with pytest.raises(TypeError, match="RandomLayerSampling"):
        trainer.fit(make_model(data), data)
    with pytest.raises(ValueError, match="every_n_epochs"):
        EnsembleDiversity(every_n_epochs=0)
    with pytest.raises(ValueError, match="repeats"):
        EnsembleDiversity(repeats=0)
