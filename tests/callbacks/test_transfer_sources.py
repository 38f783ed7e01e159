"""`TransferEvaluation` with a list of sources: the per-point worst case over the sources' examples."""

from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import FGSM, PGD
from lit_robust.callbacks import TransferEvaluation
from lit_robust.evaluation import evaluate_robustness
from tests.callbacks.conftest import first_points, make_model, make_trainer

EPSILONS = [0.05, 0.2]


def test_a_point_is_robust_only_against_every_source(tmp_path, data, trained):
    torch.manual_seed(1)
    sources = [make_model(data).eval(), make_model(data).eval()]
    attacks = {"fgsm": FGSM(0.2), "pgd": PGD(0.2, steps=3)}
    callback = TransferEvaluation(sources, attacks, EPSILONS, num_samples=30, batch_size=16, log_images=False)
    results = make_trainer(tmp_path, callbacks=[callback]).validate(trained, datamodule=data, verbose=False)[
        0
    ]
    x, y = first_points(data.val_data, 30)
    reports = [
        evaluate_robustness(trained, x, y, attacks, EPSILONS, batch_size=16, source=s) for s in sources
    ]
    for name in ("fgsm", "pgd"):
        for eps in EPSILONS:
            masks = torch.stack([r.transfer.robust[name][eps] for r in reports])
            expected = masks.all(dim=0).float().mean().item()
            assert results[f"val/transfer_acc/{name}/eps={eps:g}"] == pytest.approx(expected, abs=1e-6)
            assert expected <= min(r.accuracy(name, eps, transfer=True) for r in reports)
    worst = torch.stack([r.transfer.worst[0.2] for r in reports]).all(dim=0).float().mean().item()
    assert results["val/transfer_acc/worst/eps=0.2"] == pytest.approx(worst, abs=1e-6)


def test_one_source_in_a_list_is_the_single_source_form(data, trained):
    callback = TransferEvaluation([trained], {"fgsm": FGSM(0.1)})
    assert callback.source is trained and callback.sources == [trained]


def test_an_empty_list_of_sources_is_refused():
    with pytest.raises(ValueError, match="at least one source"):
        TransferEvaluation([], {"fgsm": FGSM(0.1)})
