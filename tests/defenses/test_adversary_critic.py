from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.cli import run_cli
from lit_robust.defenses import AdversaryCritic
from lit_robust.models import MLP, Critic

pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log")


def make_defense(**kwargs) -> AdversaryCritic:
    torch.manual_seed(0)
    settings = dict(
        num_classes=3,
        optimizer=partial(torch.optim.Adam, lr=5e-4, betas=(0.5, 0.999)),
        critic_optimizer=partial(torch.optim.Adam, lr=1e-3, betas=(0.5, 0.999)),
    )
    return AdversaryCritic(MLP(1, 3, 4, [16]), Critic(1, 3, 4, [16, 16]), **(settings | kwargs))


class RecordingCritic(AdversaryCritic):
    """Records, at every optimiser step, which networks the backward pass gave new gradients."""

    def step(self, optimizer, loss):
        parts = {"backbone": self.backbone, "critic": self.critic}
        before = {name: [_grad(p) for p in part.parameters()] for name, part in parts.items()}
        optimizer.zero_grad()
        self.manual_backward(loss)
        touched = {
            name: any(
                not torch.equal(b, _grad(p)) for b, p in zip(before[name], part.parameters(), strict=True)
            )
            for name, part in parts.items()
        }
        self.steps_seen.append((optimizer.optimizer is self.trainer.optimizers[0], touched))
        optimizer.step()


def _grad(p: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(p) if p.grad is None else p.grad.clone()


def fit(defense: AdversaryCritic, epochs: int) -> L.Trainer:
    x = torch.rand(32, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.arange(32) % 3
    trainer = L.Trainer(
        max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(defense, DataLoader(TensorDataset(x, y), batch_size=16))
    return trainer


def test_pretraining_then_alternating_steps_each_touching_only_its_own_network():
    torch.manual_seed(0)
    defense = RecordingCritic(MLP(1, 3, 4, [16]), Critic(1, 3, 4, [16, 16]), num_classes=3)
    defense.steps_seen = []
    critic_before = [p.detach().clone() for p in defense.critic.parameters()]
    trainer = fit(defense, epochs=2)
    classifier_step = (True, {"backbone": True, "critic": False})
    critic_step = (False, {"backbone": False, "critic": True})
    # epoch 0: two plain cross-entropy steps; epoch 1: critic then classifier, twice
    assert defense.steps_seen == [classifier_step] * 2 + [critic_step, classifier_step] * 2
    assert any(not torch.equal(a, b) for a, b in zip(critic_before, defense.critic.parameters(), strict=True))
    for name in ("loss", "ce", "gan", "rec", "changed", "critic_loss", "critic_penalty"):
        assert torch.isfinite(trainer.callback_metrics[f"train/{name}"]), name


def test_schedulers_are_stepped_by_the_module_after_the_pretraining():
    halve = partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    defense = make_defense(lr_scheduler=halve, critic_lr_scheduler=halve)
    trainer = fit(defense, epochs=3)  # one pretraining epoch, then two halvings
    assert [o.param_groups[0]["lr"] for o in trainer.optimizers] == pytest.approx([1.25e-4, 2.5e-4])


def test_class_confidence_is_a_bias_corrected_moving_average_per_predicted_class():
    defense = make_defense(confidence_decay=0.5)
    first = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.9, 0.05, 0.05], [0.1, 0.6, 0.3]]))
    defense.update_confidence(first)
    # class 2 predicted nowhere: keeps its initial confidence of 1
    torch.testing.assert_close(defense.class_confidence, torch.tensor([0.8, 0.6, 1.0]))
    second = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    defense.update_confidence(second)
    expected = (0.25 * torch.tensor([0.8, 0.6, 1.0]) + 0.5 * torch.tensor([0.5, 0.6, 0.8])) / 0.75
    torch.testing.assert_close(defense.class_confidence, expected)


@pytest.mark.parametrize("fake_samples", ["changed", "all"])
def test_critic_loss_matches_its_formula(fake_samples):
    defense = make_defense(lambda_grad=10.0, fake_samples=fake_samples).eval()  # eval: no critic noise
    x, y = torch.rand(6, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    x_adv, y_adv = torch.rand(6, 1, 4, 4), torch.tensor([1, 2, 0, 1, 2, 0])
    changed = torch.tensor([True, False, True, True, False, False])
    parts = defense.critic_loss(x, y, x_adv, y_adv, changed)
    fake = changed if fake_samples == "changed" else torch.ones(6, dtype=torch.bool)
    gan = (
        -F.logsigmoid(defense.critic(x, y)).mean()
        - torch.log1p(-torch.sigmoid(defense.critic(x_adv[fake], y_adv[fake]))).mean()
    )
    penalty = 0.0
    for points, labels in ((x, y), (x_adv[fake], y_adv[fake])):
        points = points.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(defense.critic(points, labels).sum(), points)
        penalty = penalty + ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(parts["critic_penalty"], penalty)
    torch.testing.assert_close(parts["critic_loss"], gan + 10.0 * penalty)


def game_inputs(defense: AdversaryCritic, x: torch.Tensor):
    logits = defense(x)
    defense.update_confidence(logits)
    target = defense.attack_targets(x, logits)
    x_adv = defense.attack(defense, x, target, defense.class_confidence[target])
    return logits, x_adv, defense(x_adv).argmax(dim=1)


def test_critic_term_reaches_the_classifier_through_the_attack():
    defense = make_defense(lambda_rec=0.0)
    x, y = torch.rand(16, 1, 4, 4), torch.arange(16) % 3
    logits, x_adv, y_adv = game_inputs(defense, x)
    parts = defense.classifier_loss(x, y, logits, logits, x_adv, y_adv)
    assert parts["changed"] > 0
    grads = torch.autograd.grad(parts["gan"], list(defense.backbone.parameters()))
    assert sum(g.abs().sum() for g in grads) > 0
    norm = defense.classifier_loss(x, y, logits, logits, x_adv, y_adv)["rec"]
    defense.cycle_loss = "squared"
    squared = defense.classifier_loss(x, y, logits, logits, x_adv, y_adv)["rec"]
    assert norm > 0 and squared > 0 and not torch.isclose(norm, squared)


def test_the_regularisers_average_over_the_changed_points_only():
    defense = make_defense(lambda_gan=1.0, lambda_rec=0.0).eval()  # eval: no critic noise
    x, y = torch.rand(16, 1, 4, 4), torch.arange(16) % 3
    logits, x_adv, y_adv = game_inputs(defense, x)
    changed = y_adv != logits.argmax(dim=1)
    y_adv = torch.where(torch.arange(16) < 4, logits.argmax(dim=1), y_adv)  # four points unchanged
    changed = changed & (torch.arange(16) >= 4)
    parts = defense.classifier_loss(x, y, logits, logits, x_adv, y_adv)
    expected = F.softplus(-defense.critic(x_adv[changed], y_adv[changed])).mean()
    torch.testing.assert_close(parts["gan"], expected)
    torch.testing.assert_close(parts["changed"], changed.float().mean())


def test_the_papers_choices_are_the_defaults():
    defense = make_defense()
    assert (defense.cycle_loss, defense.fake_samples, defense.attack.detach_iterates) == (
        "norm",
        "changed",
        False,
    )
    assert defense.attack_mode == "eval"


class ModeRecordingCritic(AdversaryCritic):
    """Records the backbone's mode at each forward pass of a training step."""

    def training_step(self, batch, batch_idx):
        self.modes = []
        hook = self.backbone.register_forward_hook(
            lambda module, args, out: self.modes.append(module.training)
        )
        super().training_step(batch, batch_idx)
        hook.remove()


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_attacks_run_in_attack_mode_and_leave_the_batch_norm_statistics_to_the_training_pass(mode):
    torch.manual_seed(0)
    backbone = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(16, 16),
        torch.nn.BatchNorm1d(16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 3),
    )
    defense = ModeRecordingCritic(
        backbone, Critic(1, 3, 4, [16, 16]), num_classes=3, pretrain_epochs=0, attack_mode=mode
    )
    trainer = fit(defense, epochs=1)
    assert trainer.global_step == 4  # 2 batches x (critic step + classifier step)
    assert defense.modes[0] is True  # the training pass
    assert all(training is (mode == "train") for training in defense.modes[1:])
    assert len(defense.modes) > 10  # reference, targets, unrolled attack, y_adv, cycle attack
    assert backbone[2].num_batches_tracked == 2  # one update per step: the training pass alone
    assert all(m.training for m in defense.modules())


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="lambda_gan"):
        make_defense(lambda_gan=-1.0)
    with pytest.raises(ValueError, match="target"):
        make_defense(target="least_likely")
    with pytest.raises(ValueError, match="cycle_loss"):
        make_defense(cycle_loss="l1")
    with pytest.raises(ValueError, match="fake_samples"):
        make_defense(fake_samples="some")
    with pytest.raises(ValueError, match="attack_mode"):
        make_defense(attack_mode="test")
    with pytest.raises(ValueError, match="confidence_decay"):
        make_defense(confidence_decay=1.0)
    with pytest.raises(ValueError, match="critic has 10 outputs"):
        AdversaryCritic(MLP(1, 3, 4, [16]), Critic(1, 10, 4, [16]), num_classes=3)


def test_the_cpu_config_plays_the_critic_game_through_the_cli(tmp_path, monkeypatch):
    config = Path(__file__).parents[2] / "configs" / "adversary_critic" / "mnist_sample_mlp_cpu.yaml"
    monkeypatch.chdir(tmp_path)
    data = {
        "source": {
            "class_path": "SyntheticImages",
            "init_args": {"num_samples": 24, "in_channels": 1, "input_size": 28},
        },
        "batch_size": 8,
        "val_size": 8,
    }
    (tmp_path / "data.yaml").write_text(json.dumps(data))
    cli = run_cli(
        [
            "fit", f"--config={config}", f"--data={tmp_path / 'data.yaml'}", "--trainer.fast_dev_run=true",
            "--trainer.enable_progress_bar=false", "--model.init_args.pretrain_epochs=0",
            "--model.init_args.backbone.init_args.hidden_sizes=[16]",
            "--model.init_args.critic.init_args.hidden_sizes=[16]",
        ]
    )  # fmt: skip
    assert isinstance(cli.model, AdversaryCritic)
    assert [type(o) for o in cli.trainer.optimizers] == [torch.optim.Adam] * 2
    assert cli.trainer.optimizers[1].param_groups[0]["betas"] == (0.5, 0.999)
    assert "train/critic_loss" in cli.trainer.callback_metrics
