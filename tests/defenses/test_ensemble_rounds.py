from __future__ import annotations

import pytest
import torch

from lit_robust.attacks import FGSM, LL
from lit_robust.defenses import RobustClassifier
from lit_robust.defenses.ensemble_rounds import EnsembleRounds
from lit_robust.models import MLP, LeNet5

EPS = 0.1


def mlp(dropout: float = 0.0) -> MLP:
    return MLP(1, 3, 8, [16], dropout=dropout)


def rounds(setting: str = "known", sources: list | None = None, **kwargs) -> EnsembleRounds:
    kwargs.setdefault("pretrain_epochs", 1)
    return EnsembleRounds(
        {"fgsm": FGSM(EPS), "ll": LL(EPS)},
        LeNet5(1, 3, 8),
        [mlp()] if sources is None else sources,
        setting,
        **kwargs,
    )


def batch(count: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(count, 1, 8, 8, generator=generator), torch.arange(count) % 3


def test_known_members_are_the_snapshot_then_the_sources_and_unknown_only_the_sources():
    known = rounds("known", [mlp(), mlp()])
    assert known.member_names == ["model", "0:MLP", "1:MLP"]
    assert known.members()["model"] is known.snapshot
    assert known.pairs[:3] == [("fgsm", "model"), ("fgsm", "0:MLP"), ("fgsm", "1:MLP")]
    unknown = rounds("unknown")
    assert unknown.snapshot is None and unknown.member_names == ["0:MLP"]
    assert unknown.pairs == [("fgsm", "0:MLP"), ("ll", "0:MLP")]


def test_each_image_gets_the_example_of_its_pair_crafted_in_eval_mode():
    ensemble = rounds("known", [mlp(dropout=0.5)])
    ensemble.train()
    x, y = batch()
    pairs = torch.arange(len(y)) % len(ensemble.pairs)
    x_adv = ensemble.craft(x, y, pairs)
    assert all(module.training for module in ensemble.sources[0].modules()), "modes restored"
    members = ensemble.members()
    for index, (attack, member) in enumerate(ensemble.pairs):
        chosen = pairs == index
        expected = ensemble.attacks[attack](members[member].eval(), x[chosen], y[chosen])  # dropout off
        torch.testing.assert_close(x_adv[chosen], expected)
    assert (x_adv - x).abs().amax() <= EPS + 1e-6


def test_the_draws_follow_the_batch_key_and_cover_every_pair():
    ensemble = rounds("known", [mlp(), mlp()])
    ensemble.start_batch(3, 5)
    first = ensemble.draw_pairs(600)
    ensemble.start_batch(3, 5)
    torch.testing.assert_close(ensemble.draw_pairs(600), first)
    ensemble.start_batch(3, 6)
    assert not torch.equal(ensemble.draw_pairs(600), first)
    assert set(first.tolist()) == set(range(len(ensemble.pairs)))


def test_rounds_snapshot_the_evaluated_model_at_their_start_and_freeze_the_sources():
    ensemble = rounds("known", pretrain_epochs=2, epochs_per_round=2)
    assert [ensemble.round_at(epoch) for epoch in range(7)] == [None, None, 0, 0, 1, 1, 2]
    evaluated = LeNet5(1, 3, 8)
    ensemble.start_epoch(1, evaluated)
    assert ensemble.round_index.item() == -1
    assert all(p.requires_grad for p in ensemble.sources.parameters())
    ensemble.start_epoch(2, evaluated)
    assert ensemble.round_index.item() == 0
    for name, value in evaluated.state_dict().items():
        torch.testing.assert_close(ensemble.snapshot.backbone.state_dict()[name], value)
    assert not any(p.requires_grad for p in ensemble.parameters())
    changed = LeNet5(1, 3, 8)
    ensemble.start_epoch(3, changed)  # the same round: the snapshot stays
    snapshot = ensemble.snapshot.backbone
    torch.testing.assert_close(first_weight(snapshot), first_weight(evaluated))
    ensemble.start_epoch(4, changed)
    assert ensemble.round_index.item() == 1
    torch.testing.assert_close(first_weight(snapshot), first_weight(changed))


def first_weight(module: torch.nn.Module) -> torch.Tensor:
    return next(iter(module.parameters()))


def test_only_the_sources_without_a_checkpoint_have_a_training_loss(tmp_path):
    torch.save(mlp().state_dict(), tmp_path / "source.pt")
    ensemble = rounds("known", [mlp(), mlp()], source_checkpoints=[None, str(tmp_path / "source.pt")])
    ensemble.load_sources()
    x, y = batch()
    expected = torch.nn.functional.cross_entropy(ensemble.sources[0](x), y)
    torch.testing.assert_close(ensemble.source_loss(x, y), expected)
    assert not any(p.requires_grad for p in ensemble.sources[1].parameters())
    assert all(p.requires_grad for p in ensemble.sources[0].parameters())


def test_a_classifier_checkpoint_and_a_plain_backbone_state_dict_both_load(tmp_path):
    classifier = RobustClassifier(mlp(), num_classes=3, mean=[0.3], std=[0.2])
    torch.save({"state_dict": classifier.state_dict()}, tmp_path / "model.ckpt")
    torch.save(classifier.backbone.state_dict(), tmp_path / "backbone.pt")
    paths = [str(tmp_path / "model.ckpt"), str(tmp_path / "backbone.pt")]
    ensemble = rounds("unknown", [mlp(), mlp()], source_checkpoints=paths, mean=[0.3], std=[0.2])
    ensemble.load_sources()
    x = torch.rand(4, 1, 8, 8)
    for source in ensemble.sources:
        torch.testing.assert_close(source(x), classifier(x))
        assert not any(p.requires_grad for p in source.parameters())


def test_a_missing_source_checkpoint_is_named():
    ensemble = rounds("known", source_checkpoints=["nowhere.ckpt"])
    with pytest.raises(FileNotFoundError, match=r"nowhere\.ckpt"):
        ensemble.load_sources()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"setting": "white-box"}, "setting must be"),
        ({"setting": "unknown", "sources": []}, "at least one source"),
        ({"source_checkpoints": ["a.ckpt", None]}, "one entry"),
        ({"epochs_per_round": 0}, "epochs_per_round"),
        ({"pretrain_epochs": -1}, "pretrain_epochs"),
        ({"pretrain_epochs": 0}, "trained during the pretraining epochs"),
        ({"setting": "unknown", "sources": [mlp(), LeNet5(1, 3, 8)]}, "LeNet5 like the model's backbone"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rounds(**kwargs)


def test_attacks_must_not_be_empty():
    with pytest.raises(ValueError, match="at least one attack"):
        EnsembleRounds({}, LeNet5(1, 3, 8))


def test_without_sources_pretraining_may_be_skipped():
    ensemble = EnsembleRounds({"fgsm": FGSM(EPS)}, LeNet5(1, 3, 8))
    assert ensemble.member_names == ["model"] and ensemble.round_at(0) == 0
