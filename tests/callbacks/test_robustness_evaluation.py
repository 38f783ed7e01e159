"""`RobustnessEvaluation` inside fit, validate and test: subset, names, numbers, TensorBoard output."""

from __future__ import annotations

import copy

import pytest
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.attacks import FGSM, PGD, DeepFool
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.evaluation import evaluate_robustness
from tests.callbacks.conftest import first_points, make_data, make_model, make_trainer

EPSILONS = [0.02, 0.05, 0.1]


def attacks() -> dict:
    return {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=5), "deepfool": DeepFool(steps=20)}


def expected_metrics(model, x, y, stage: str, batch_size: int) -> dict[str, float]:
    """What the callback must log: ``evaluate_robustness`` on the same points with the same blocks."""
    report = evaluate_robustness(model, x, y, attacks(), EPSILONS, batch_size=batch_size)
    metrics = report.to_dict()["metrics"]
    metrics[f"{stage}/robust_eval/clean_acc"] = metrics.pop("clean_acc")
    return {(k if k.startswith(stage) else f"{stage}/{k}"): v for k, v in metrics.items()}


def logged(results: list[dict], stage: str) -> dict[str, float]:
    return {k: v for k, v in results[0].items() if k.startswith(f"{stage}/") and "seconds" not in k}


@pytest.mark.parametrize("stage", ["val", "test"])
def test_validate_and_test_log_the_numbers_of_evaluate_robustness(tmp_path, data, trained, stage):
    """Under Lightning's inference mode, with stage prefixes, on the first num_samples device points."""
    model = copy.deepcopy(trained)
    callback = RobustnessEvaluation(attacks(), EPSILONS, num_samples=30, batch_size=12, log_images=False)
    trainer = make_trainer(tmp_path, callbacks=[callback])
    run = trainer.validate if stage == "val" else trainer.test
    results = run(model, datamodule=data, verbose=False)
    x, y = first_points(data.val_data if stage == "val" else data.test_data, 30)
    expected = expected_metrics(model, x, y, stage, batch_size=12)
    got = logged(results, stage)
    assert set(expected) <= set(got)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-6, abs=1e-9), name
    assert 0 < got[f"{stage}/robust_acc/worst/eps=0.1"] < got[f"{stage}/robust_eval/clean_acc"]
    assert results[0][f"{stage}/robust_eval/seconds"] > 0


def test_fit_writes_scalars_figure_and_images_to_tensorboard(tmp_path):
    data = make_data()
    callback = RobustnessEvaluation(
        attacks(), EPSILONS, every_n_epochs=2, num_samples=24, batch_size=12, sanity_checks=True, num_images=4
    )
    logger = TensorBoardLogger(tmp_path, name="tb", default_hp_metric=False)
    trainer = make_trainer(
        tmp_path, max_epochs=3, logger=logger, callbacks=[callback], num_sanity_val_steps=2
    )
    trainer.fit(make_model(data), datamodule=data)
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    scalars, images = events.Tags()["scalars"], events.Tags()["images"]
    for tag in (
        "val/robust_acc/pgd/eps=0.05",
        "val/robust_acc/worst/eps=0.1",
        "val/robust_acc/worst/eps=1",
        "val/robust_acc/deepfool/eps=inf",
        "val/rho/deepfool",
        "val/robust_eval/clean_acc",
        "val/robust_eval/seconds",
        "val/robust_eval/sanity_flags",
    ):
        assert tag in scalars, tag
    assert {"val/robust_eval/accuracy_vs_eps", "val/robust_eval/examples"} <= set(images)
    # every_n_epochs=2 over 3 epochs: epoch 1, then the final model (epoch 2); none in the sanity check
    assert len(events.Scalars("val/robust_acc/pgd/eps=0.05")) == 2
    assert len(events.Images("val/robust_eval/examples")) == 2
    examples = events.Images("val/robust_eval/examples")[0]
    assert examples.width >= 4 * 233 // 2 and examples.width * examples.height >= 4 * 233 * 88
    assert len(events.Scalars("val/acc")) == 3
    assert [e.value for e in events.Scalars("hp_metric")] == [
        events.Scalars("val/robust_acc/worst/eps=0.1")[-1].value
    ]  # one point: the final worst case at the largest grid epsilon
    config = events.Tensors("custom_scalars__config__")[0].tensor_proto.string_val[0]
    layout = layout_pb2.Layout.FromString(config)
    charts = {chart.title: chart for category in layout.category for chart in category.chart}
    assert list(charts) == ["worst case at every eps", "eps=0.02", "eps=0.05", "eps=0.1", "eps=1", "eps=inf"]
    assert list(charts["eps=0.05"].multiline.tag) == [
        "^val/robust_eval/clean_acc$", "^val/robust_acc/fgsm/eps=0\\.05$", "^val/robust_acc/pgd/eps=0\\.05$",
        "^val/robust_acc/worst/eps=0\\.05$",
    ]  # fmt: skip


def test_every_n_epochs_alone_skips_the_final_model(tmp_path):
    data = make_data()
    callback = RobustnessEvaluation(
        {"fgsm": FGSM(0.1)}, [0.1], every_n_epochs=2, num_samples=8, at_fit_end=False
    )
    trainer = make_trainer(tmp_path, max_epochs=3, callbacks=[callback], num_sanity_val_steps=0)
    trainer.fit(make_model(data), datamodule=data)
    assert callback.summary  # epoch 1 evaluated


@pytest.mark.parametrize(
    ("settings", "trainer_settings", "message"),
    [
        ({"every_n_epochs": 5, "at_fit_end": False}, {"max_epochs": 2}, "it evaluates every 5 epochs"),
        ({}, {"max_epochs": 1, "limit_val_batches": 0}, "there is no validation loop"),
        ({}, {"max_epochs": 2, "check_val_every_n_epoch": 3}, "validation runs every 3 epochs"),
    ],
)
def test_a_fit_that_will_never_evaluate_warns(tmp_path, settings, trainer_settings, message):
    data = make_data()
    callback = RobustnessEvaluation({"fgsm": FGSM(0.1)}, [0.1], num_samples=8, **settings)
    trainer = make_trainer(tmp_path, callbacks=[callback], num_sanity_val_steps=0, **trainer_settings)
    with pytest.warns(
        UserWarning, match=f"RobustnessEvaluation will not evaluate during this fit: {message}"
    ):
        trainer.fit(make_model(data), datamodule=data)
    assert not callback.summary


def test_a_one_epoch_fit_evaluates_whatever_every_n_epochs(tmp_path, capsys):
    data = make_data()
    callback = RobustnessEvaluation({"fgsm": FGSM(0.1)}, [0.05, 0.1], every_n_epochs=10, num_samples=8)
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[callback], num_sanity_val_steps=0)
    trainer.fit(make_model(data), datamodule=data)
    out = capsys.readouterr().out.splitlines()
    start = next(
        i for i, line in enumerate(out) if line.startswith("val robust acc, epoch 0 (step 7): 8 points")
    )
    assert out[start + 1].split() == ["attack", "eps=0.05", "eps=0.1"]
    assert [line.split()[0] for line in out[start + 2 : start + 4]] == ["fgsm", "worst"]


def test_other_loggers_get_the_scalars_only(tmp_path, data, trained):
    callback = RobustnessEvaluation({"fgsm": FGSM(0.1)}, EPSILONS, num_samples=16)
    logger = CSVLogger(tmp_path, name="csv")
    make_trainer(tmp_path, logger=logger, callbacks=[callback]).validate(
        trained, datamodule=data, verbose=False
    )
    header = (tmp_path / "csv" / "version_0" / "metrics.csv").read_text().splitlines()[0]
    assert "val/robust_acc/fgsm/eps=0.05" in header and "val/robust_acc/worst/eps=0.1" in header


def test_num_samples_above_the_dataset_size_uses_every_point(tmp_path, data, trained):
    callback = RobustnessEvaluation({"fgsm": FGSM(0.1)}, [0.1], num_samples=1000)
    results = make_trainer(tmp_path, callbacks=[callback]).validate(trained, datamodule=data, verbose=False)
    x, y = first_points(data.val_data, 1000)
    report = evaluate_robustness(trained, x, y, {"fgsm": FGSM(0.1)}, [0.1])
    assert len(y) == 37
    assert results[0]["val/robust_acc/fgsm/eps=0.1"] == pytest.approx(report.accuracy("fgsm", 0.1))


def test_uint8_batches_are_refused_with_a_clear_message(tmp_path, trained):
    loader = DataLoader(TensorDataset(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), torch.zeros(4).long()))
    callback = RobustnessEvaluation({"fgsm": FGSM(0.1)}, [0.1], num_samples=4)
    with pytest.raises(TypeError, match="on_after_batch_transfer"):
        make_trainer(tmp_path, callbacks=[callback]).validate(trained, dataloaders=loader, verbose=False)


def test_bad_settings_fail_at_construction():
    with pytest.raises(ValueError, match="every_n_epochs"):
        RobustnessEvaluation({"fgsm": FGSM(0.1)}, [0.1], every_n_epochs=0)
    with pytest.raises(ValueError, match="num_samples"):
        RobustnessEvaluation({"fgsm": FGSM(0.1)}, [0.1], num_samples=0)
    with pytest.raises(ValueError, match="bounded in L2"):
        RobustnessEvaluation({"pgd": PGD(1.0, norm="L2")}, [0.1])
