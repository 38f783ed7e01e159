from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor, nn

from lit_robust.attacks import FGSM, PGD
from lit_robust.cli import run_cli
from lit_robust.data import ImageDataModule
from lit_robust.defenses import EnsembleTripletAdversarialTraining, TripletAdversarialTraining
from lit_robust.models import MLP, LeNet5
from tests.synthetic import synthetic_data

pytestmark = pytest.mark.filterwarnings(
    "ignore:You are trying to `self.log",
    "ignore:.*does not have many workers",
    "ignore:The number of training",
)
EPS = 0.1


def mlp(dropout: float = 0.0) -> MLP:
    return MLP(1, 3, 8, [16], dropout=dropout)


def synthetic(**overrides: object) -> ImageDataModule:
    settings = {"num_samples": 40, "num_classes": 3, "in_channels": 1, "input_size": 8, "batch_size": 8}
    return synthetic_data(**{**settings, "val_size": 0, **overrides})


def trainer(epochs: int, **kwargs) -> L.Trainer:
    kwargs.setdefault("enable_checkpointing", False)
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        **kwargs,
    )


class Spy:
    """FGSM that records, per call, the model attacked, its mode and the number of images."""

    def __init__(self) -> None:
        self.calls: list[tuple[nn.Module, bool, int]] = []

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        self.calls.append((model, model.training, len(y)))
        return FGSM(EPS)(model, x, y)


def first_weight(module: nn.Module) -> Tensor:
    return next(iter(module.parameters())).detach().clone()


class Epochs(L.Callback):
    """Records, at the first batch of every epoch, f's and the members' first weights and whether the source
    takes gradients."""

    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx > 0:
            return
        first, rounds = first_weight, pl_module.rounds
        self.seen.append({
            "model": first(pl_module.backbone),
            "snapshot": first(rounds.snapshot) if rounds.snapshot is not None else None,
            "source": first(rounds.sources[0]),
            "trainable": any(p.requires_grad for p in rounds.sources[0].parameters()),
        })  # fmt: skip


def test_sources_train_while_pretraining_then_stay_frozen_and_each_round_snapshots_f():
    spy = Spy()
    model = EnsembleTripletAdversarialTraining(
        LeNet5(1, 3, 8), {"spy": spy}, [mlp()], pretrain_epochs=2, epochs_per_round=2, num_classes=3
    )
    initial = first_weight(model.rounds.sources[0])
    epochs = Epochs()
    trainer(6, callbacks=[epochs]).fit(model, datamodule=synthetic())
    seen = epochs.seen
    assert not torch.equal(seen[1]["source"], initial) and not torch.equal(
        seen[2]["source"], seen[1]["source"]
    )
    assert all(torch.equal(s["source"], seen[2]["source"]) for s in seen[2:])
    assert [s["trainable"] for s in seen] == [True, True, False, False, False, False]
    final = next(iter(model.rounds.sources[0].parameters()))
    assert torch.equal(final, seen[2]["source"]) and not final.requires_grad
    # the snapshot is f at the start of rounds 0 (epoch 2) and 1 (epoch 4), unchanged inside a round
    for epoch in (2, 3):
        assert torch.equal(seen[epoch]["snapshot"], seen[2]["model"])
    for epoch in (4, 5):
        assert torch.equal(seen[epoch]["snapshot"], seen[4]["model"])
    assert not torch.equal(seen[4]["model"], seen[2]["model"])
    assert model.rounds.round_index.item() == 1


@pytest.mark.parametrize("setting", ["known", "unknown"])
def test_every_round_image_is_trained_with_an_example_from_a_member_in_eval_mode(setting):
    spy, sources = Spy(), [mlp(), mlp()]
    model = EnsembleTripletAdversarialTraining(
        LeNet5(1, 3, 8), {"spy": spy}, sources, setting, pretrain_epochs=1, num_classes=3
    )
    steps: list[int] = []

    class Steps(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            steps.append(len(batch[1]) if pl_module.current_epoch >= 1 else 0)

    trainer(3, callbacks=[Steps()]).fit(model, datamodule=synthetic())
    members = list(model.rounds.members().values())
    assert all(attacked in members and not training for attacked, training, _ in spy.calls)
    assert sum(count for _, _, count in spy.calls) == sum(steps) == 2 * 40
    attacked = {id(m) for m, _, _ in spy.calls}
    assert attacked == {id(m) for m in members}  # every member drawn in 10 batches of 8
    assert (model.rounds.snapshot is not None) == (setting == "known")


def test_a_loaded_source_is_attacked_from_the_first_epoch_and_never_trained(tmp_path):
    source = mlp()
    torch.save(source.state_dict(), tmp_path / "source.pt")
    spy = Spy()
    model = EnsembleTripletAdversarialTraining(
        LeNet5(1, 3, 8), {"spy": spy}, [mlp()], "unknown", [str(tmp_path / "source.pt")], num_classes=3
    )
    trainer(1).fit(model, datamodule=synthetic())
    loaded = model.rounds.sources[0]
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.backbone.parameters(), source.parameters(), strict=True)
    )
    assert not any(p.requires_grad for p in loaded.parameters())
    assert {id(m) for m, _, _ in spy.calls} == {id(loaded)} and sum(n for _, _, n in spy.calls) == 40


def test_round_batches_get_the_at2l_loss_of_the_crafted_examples():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(8, 1, 8, 8, generator=generator), torch.arange(8) % 3
    torch.manual_seed(0)
    ensemble = EnsembleTripletAdversarialTraining(mlp(), {"fgsm": FGSM(EPS)}, lambda1=0.6, num_classes=3)
    torch.manual_seed(0)
    at2l = TripletAdversarialTraining(mlp(), FGSM(EPS), lambda1=0.6, num_classes=3)
    ensemble.rounds.start_epoch(0, ensemble.backbone)  # round 0: the snapshot is f itself
    torch.manual_seed(1)  # the triplet term's negatives
    expected = at2l.training_loss(x, y).loss
    torch.manual_seed(1)
    torch.testing.assert_close(ensemble.training_loss(x, y).loss, expected)


def test_pretraining_batches_add_the_sources_cross_entropy():
    x, y = torch.rand(8, 1, 8, 8), torch.arange(8) % 3
    model = EnsembleTripletAdversarialTraining(mlp(), {"fgsm": FGSM(EPS)}, [mlp()], pretrain_epochs=1)
    expected = nn.functional.cross_entropy(model(x), y) + model.rounds.source_loss(x, y)
    torch.testing.assert_close(model.training_loss(x, y).loss, expected)


def test_unknown_setting_refuses_a_source_with_the_evaluated_structure():
    with pytest.raises(ValueError, match="LeNet5 like the model's backbone"):
        EnsembleTripletAdversarialTraining(
            LeNet5(1, 3, 8), {"fgsm": FGSM(EPS)}, [mlp(), LeNet5(1, 3, 8)], "unknown", pretrain_epochs=1
        )


def test_a_source_of_another_shape_than_the_data_is_named():
    wide = MLP(1, 3, 28, [16])  # MNIST-sized, on 8x8 images
    model = EnsembleTripletAdversarialTraining(mlp(), {"fgsm": FGSM(EPS)}, [wide], pretrain_epochs=1)
    with pytest.raises(
        ValueError, match="source 0:MLP of EnsembleTripletAdversarialTraining: The backbone MLP"
    ):
        trainer(1).fit(model, datamodule=synthetic())


def fit(root: Path, max_epochs: int, ckpt_path: Path | None = None) -> EnsembleTripletAdversarialTraining:
    L.seed_everything(0)  # as lit-robust does in every fresh process
    # dropout in f and the source, PGD's random starts: draws from the global RNG besides the pair draws
    model = EnsembleTripletAdversarialTraining(
        mlp(dropout=0.3), {"pgd": PGD(EPS, steps=2), "fgsm": FGSM(EPS)}, [mlp(dropout=0.3)],
        pretrain_epochs=1, epochs_per_round=2, num_classes=3,
    )  # fmt: skip
    run = trainer(
        max_epochs, default_root_dir=root, enable_checkpointing=True,
        callbacks=[ModelCheckpoint(dirpath=root / "checkpoints", save_last=True)],
    )  # fmt: skip
    run.fit(model, synthetic(num_samples=48, augment=True), ckpt_path=ckpt_path, weights_only=True)
    return model


def test_resuming_inside_a_round_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    uninterrupted = fit(tmp_path / "a", max_epochs=3)
    fit(tmp_path / "b", max_epochs=2)  # stops after epoch 1, inside round 0 (epochs 1 and 2)
    resumed = fit(tmp_path / "c", max_epochs=3, ckpt_path=tmp_path / "b" / "checkpoints" / "last.ckpt")
    assert "attacks" not in resumed.hparams and resumed.rounds.round_index.item() == 0
    for (name, a), b in zip(uninterrupted.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} differs after resuming"
    assert any(name.startswith("attack.snapshot.") for name in uninterrupted.state_dict())


CONFIG = """
model:
  class_path: EnsembleTripletAdversarialTraining
  init_args:
    backbone: {class_path: LeNet5}
    attacks:
      fgsm: {class_path: FGSM, init_args: {eps: 0.1}}
      i_fgsm: {class_path: BIM, init_args: {eps: 0.1, steps: 2, step_size: 0.05}}
    sources:
      - class_path: lit_robust.models.MLP
        init_args: {in_channels: 1, num_classes: 3, input_size: 8, hidden_sizes: [8]}
    setting: known
    pretrain_epochs: 1
data:
  source:
    class_path: SyntheticImages
    init_args: {num_samples: 24, num_classes: 3, in_channels: 1, input_size: 8}
  batch_size: 8
  val_size: 8
trainer:
  max_epochs: 2
  accelerator: cpu
  logger: false
  enable_progress_bar: false
  callbacks: [{class_path: ModelCheckpoint, init_args: {save_last: true}}]
"""


def test_a_config_trains_through_a_round_and_its_checkpoint_rebuilds_the_defense(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ensemble.yaml").write_text(CONFIG)
    cli = run_cli(["fit", "--config", "ensemble.yaml", f"--trainer.default_root_dir={tmp_path}"])
    trained = cli.model
    assert trained.rounds.round_index.item() == 0 and trained.rounds.member_names == ["model", "0:MLP"]
    last = next(tmp_path.rglob("last.ckpt"))
    rebuilt = EnsembleTripletAdversarialTraining.load_from_checkpoint(last, weights_only=True)
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(rebuilt.eval()(x), trained.eval()(x))
    torch.testing.assert_close(rebuilt.rounds.sources[0](x), trained.rounds.sources[0](x))
