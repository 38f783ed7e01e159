"""`EnsembleRounds`: the models M of ensemble AT2L (Li et al. 2019, Algorithm 2), their rounds, and the
attack that crafts every training image against one of them.

Pure torch: the schedule is driven by epoch and batch numbers that the defense
(:class:`~lit_robust.defenses.EnsembleTripletAdversarialTraining`) passes in from Lightning's hooks. Every
state that changes during training is a parameter or buffer of this module (the sources' weights, the
snapshot of the evaluated model, the index of its round), so a checkpoint of the defense holds it and a
resumed run continues the round it was in. Frozen members take no gradients and are attacked in eval mode
(:meth:`EnsembleRounds.craft`); their train/eval flags are otherwise left to the trainer, so that Lightning
finds every module in training mode when fitting starts.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_robust.attacks import Attack
from lit_robust.data.seeding import seeded_generator
from lit_robust.defenses.attack_mode import module_mode
from lit_robust.models import DefendedModel, check_backbone_fits, load_defended_weights
from lit_robust.validation import check_int

Setting = Literal["known", "unknown"]
EVALUATED = "model"
"""Name of the evaluated model's snapshot among the members of M (the ``known`` setting)."""


class EnsembleRounds(nn.Module):
    """The members M, the rounds of Algorithm 2 and the crafting of each batch's adversarial examples.

    Epochs ``0 .. pretrain_epochs - 1`` are Algorithm 2's step 1 (clean training; the sources without a
    checkpoint train then too, see :meth:`source_loss`). Epoch ``pretrain_epochs + r * epochs_per_round``
    starts round ``r`` (:meth:`start_epoch`): the trained sources are frozen, and in the ``known`` setting
    the snapshot takes the evaluated model's current weights. Called as an attack, ``rounds(model, x, y)``
    gives each image the adversarial example of one (attack, member) pair drawn at random: a transfer
    attack from the round's ensemble, in which ``model`` itself (the network being trained) is not attacked.

    Args:
        attacks: the set A by name.
        evaluated: the evaluated network f (its backbone); copied for the snapshot in the ``known`` setting.
        sources: the static networks of M besides f, taking normalised images like f.
        setting: ``"known"`` (a snapshot of f is in M) or ``"unknown"`` (neither f nor its class is).
        source_checkpoints: per source, a weights file to load (a lit-robust checkpoint or a plain backbone
            ``state_dict``) or ``None`` to train it during the pretraining epochs.
        pretrain_epochs: epochs of clean training before the first round.
        epochs_per_round: epochs of each round.
        seed: seed of the (attack, member) draws.
        mean: the normalisation mean of f, used by every member.
        std: the normalisation standard deviation of f.
    """

    round_index: Tensor

    def __init__(
        self,
        attacks: dict[str, Attack],
        evaluated: nn.Module,
        sources: Sequence[nn.Module] = (),
        setting: Setting = "known",
        source_checkpoints: Sequence[str | Path | None] | None = None,
        pretrain_epochs: int = 0,
        epochs_per_round: int = 1,
        seed: int = 0,
        mean: float | Sequence[float] = 0.0,
        std: float | Sequence[float] = 1.0,
    ) -> None:
        checkpoints = list(source_checkpoints) if source_checkpoints is not None else [None] * len(sources)
        _check_settings(attacks, evaluated, sources, setting, checkpoints, pretrain_epochs, epochs_per_round)
        super().__init__()
        self.attacks = dict(attacks)
        self.setting: Setting = setting
        self.pretrain_epochs, self.epochs_per_round, self.seed = pretrain_epochs, epochs_per_round, seed
        self.sources = nn.ModuleList(DefendedModel(source, mean, std) for source in sources)
        self.checkpoints = checkpoints
        self.snapshot = (
            DefendedModel(copy.deepcopy(evaluated), mean, std).requires_grad_(False)
            if setting == "known"
            else None
        )
        """The frozen copy of f in M (``known`` setting), retaken at the start of every round."""
        self.register_buffer("round_index", torch.tensor(-1))
        self.source_names = [f"{i}:{type(source).__name__}" for i, source in enumerate(sources)]
        self.member_names = ([EVALUATED] if setting == "known" else []) + self.source_names
        self.pairs = [(attack, member) for attack in self.attacks for member in self.member_names]
        """Every (attack, member) pair by name, indexed like the draws of :meth:`draw_pairs`."""
        self.draws = torch.Generator()

    # --------------------------------------------------------------------------------------- schedule
    def round_at(self, epoch: int) -> int | None:
        """The round that ``epoch`` belongs to, or ``None`` for a pretraining epoch."""
        if epoch < self.pretrain_epochs:
            return None
        return (epoch - self.pretrain_epochs) // self.epochs_per_round

    def load_sources(self) -> None:
        """Loads every source that has a checkpoint and freezes it (no gradients), weights-only through
        :func:`~lit_robust.models.load_defended_weights`: a lit-robust checkpoint's defended model in either
        key layout, any other file as the backbone's ``state_dict``.

        Raises:
            FileNotFoundError: if a checkpoint does not exist.
            RuntimeError: if the weights do not fit the source (the message lists the mismatched keys).
        """
        for source, checkpoint in zip(self.sources, self.checkpoints, strict=True):
            if checkpoint is not None:
                load_defended_weights(source, checkpoint).requires_grad_(False)

    def check_sources(self, x: Tensor, num_classes: int) -> None:
        """Raises a ValueError naming the source that cannot take images shaped like the batch ``x`` or does
        not return ``num_classes`` logits (see :func:`~lit_robust.models.check_backbone_fits`)."""
        for name, source in zip(self.source_names, self.sources, strict=True):
            try:
                check_backbone_fits(source.backbone, x.shape[1], x.shape[-1], num_classes)
            except ValueError as error:
                problem = str(error)
            else:
                continue
            raise ValueError(f"source {name} of EnsembleTripletAdversarialTraining: {problem}")

    def start_epoch(self, epoch: int, evaluated: nn.Module) -> None:
        """From the first round on, keeps the trained sources frozen, and at the start of a round (one not
        begun yet: a run resumed inside a round keeps the snapshot its checkpoint holds) copies the weights
        of ``evaluated`` (f's backbone) into the snapshot."""
        index = self.round_at(epoch)
        if index is None:
            return
        self.sources.requires_grad_(False)
        if index != self.round_index.item():
            if self.snapshot is not None:
                self.snapshot.backbone.load_state_dict(evaluated.state_dict())
            self.round_index.fill_(index)

    def start_batch(self, epoch: int, batch_index: int, rank: int = 0) -> None:
        """Seeds the draws of the batch from ``(seed, epoch, batch_index, rank)``: the same pairs whether or
        not the run was resumed, on any device."""
        self.draws = seeded_generator(self.seed, epoch, batch_index, rank)

    def source_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The summed cross-entropy of the sources that train (those without a checkpoint) on ``(x, y)``."""
        losses = [
            F.cross_entropy(source(x), y)
            for source, checkpoint in zip(self.sources, self.checkpoints, strict=True)
            if checkpoint is None
        ]
        return torch.stack(losses).sum() if losses else x.new_zeros(())

    # --------------------------------------------------------------------------------------- crafting
    def members(self) -> dict[str, nn.Module]:
        """M by name: the snapshot of f (``known`` setting) and the sources."""
        snapshot = [self.snapshot] if self.snapshot is not None else []
        return dict(zip(self.member_names, [*snapshot, *self.sources], strict=True))

    def draw_pairs(self, count: int) -> Tensor:
        """For each of ``count`` images, the index in :attr:`pairs` of a pair drawn uniformly at random."""
        return torch.randint(len(self.pairs), (count,), generator=self.draws)

    def craft(self, x: Tensor, y: Tensor, pair_index: Tensor) -> Tensor:
        """Image ``i``'s adversarial example by the attack against the member of pair ``pair_index[i]``,
        each member in eval mode (its modes restored afterwards)."""
        members = self.members()
        x_adv = x.detach().clone()
        pair_index = pair_index.to(x.device)
        for pair in pair_index.unique().tolist():
            attack, member = self.pairs[pair]
            chosen = pair_index == pair
            with module_mode(members[member], "eval"):
                x_adv[chosen] = self.attacks[attack](members[member], x[chosen], y[chosen]).to(x_adv.dtype)
        return x_adv

    def forward(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        """The attack's call: the examples of :meth:`craft` for pairs drawn by :meth:`draw_pairs`; ``model``
        (the network being trained) is not used."""
        return self.craft(x, y, self.draw_pairs(len(y)))

    def extra_repr(self) -> str:
        return f"setting={self.setting}, attacks={list(self.attacks)}, members={self.member_names}"


def _check_settings(
    attacks: dict[str, Attack],
    evaluated: nn.Module,
    sources: Sequence[nn.Module],
    setting: str,
    checkpoints: list[str | Path | None],
    pretrain_epochs: int,
    epochs_per_round: int,
) -> None:
    if not attacks:
        raise ValueError("attacks must name at least one attack (the set A of Algorithm 2).")
    if setting not in ("known", "unknown"):
        raise ValueError(f"setting must be 'known' or 'unknown', got {setting!r}.")
    check_int("pretrain_epochs", pretrain_epochs, 0)
    check_int("epochs_per_round", epochs_per_round, 1)
    if setting == "unknown" and not sources:
        raise ValueError("setting 'unknown' attacks only the sources, so give at least one source.")
    if len(checkpoints) != len(sources):
        raise ValueError(
            f"source_checkpoints needs one entry (a path or null) per source: got {len(checkpoints)} for "
            f"{len(sources)} sources."
        )
    structure = type(evaluated)
    if setting == "unknown" and any(type(source) is structure for source in sources):
        raise ValueError(
            f"setting 'unknown' leaves the evaluated structure out of M, but a source is a "
            f"{structure.__name__} like the model's backbone: remove it, or use setting 'known'."
        )
    if pretrain_epochs == 0 and None in checkpoints:
        raise ValueError(
            "sources without a checkpoint are trained during the pretraining epochs: set pretrain_epochs "
            "to at least 1, or give every source a checkpoint."
        )
