"""`EnsembleTripletAdversarialTraining`: ensemble AT2L (Li et al. 2019, Algorithm 2), crafting in rounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from lit_robust.attacks import Attack
from lit_robust.attacks.base import Norm
from lit_robust.defenses.ensemble_rounds import EnsembleRounds, Setting
from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput
from lit_robust.defenses.triplet import TripletAdversarialTraining


class EnsembleTripletAdversarialTraining(TripletAdversarialTraining):
    """Ensemble AT2L: the AT2L loss (Eq. 2) on adversarial examples by the attacks A against the models M.

    The paper (Algorithm 2): train f on the clean data; then, in every round, craft the set ``X^{a,m}`` of
    adversarial examples of the whole training set for every attack ``a`` in A and every model ``m`` in M,
    and train f with Eq. 2 on mini-batches that pair k clean examples with one adversarial example of each,
    sampled from those sets. M follows Tramer et al.'s ensemble adversarial training: static models, trained
    once. ``known`` setting: the evaluated structure is in M; ``unknown``: neither f nor its structure.

    Here (the defense owns M and crafts; the data is any datamodule of clean ``(x, y)`` batches):

    - The sources are :class:`~lit_robust.models.DefendedModel` submodules (f's normalisation, then the
      source backbone). Those without a checkpoint train during the ``pretrain_epochs`` clean epochs
      (Algorithm 2, step 1), by Lightning's own loop: their cross-entropy on the clean batch is added to the
      training loss, with the same optimiser (with Adam, the same updates as separate optimisers, since
      the parameters are disjoint, unless gradients are clipped by their global norm); from the first
      round on they are frozen. The others are loaded
      (weights-only) when fitting starts and are frozen throughout.
    - ``known``: M holds a frozen snapshot of f, which takes f's weights at the start of every round
      (Algorithm 1 in rounds when there are no sources), and the sources; ``unknown``: only the sources.
    - Crafting is on the fly: at every training step each image is paired with one (attack, member) pair
      drawn at random, and its example is crafted against that member in eval mode: a sample of the
      round's ``X_adv`` as the paper's batches take one, without storing the set (an attack's own
      randomness is drawn anew at every step; in the unknown setting the members never change, and a round
      is only a group of epochs).
    - A checkpoint holds the sources, the snapshot and its round (:class:`EnsembleRounds` keeps them as
      parameters and buffers), so a run resumed inside a round continues it exactly. Under DDP with sources
      trained here, use ``strategy: ddp_find_unused_parameters_true`` (they stop getting gradients).

    ``lambda2: 0`` gives the paper's "Adv. Train" baseline (Eq. 1 on the same examples).

    Args:
        backbone: the network mapping normalised images to logits (the evaluated model f).
        attacks: the set A by name (``FGSM``, ``LL``, ``BIM`` for I-FGSM, ``ILL``, ``CarliniWagnerL2``, ...).
        sources: static networks of M besides f (``MnistModelB``, ...), taking normalised images like f.
        setting: ``"known"`` (a snapshot of f is in M) or ``"unknown"`` (neither f nor its structure).
        source_checkpoints: per source, a lit-robust checkpoint (or a plain backbone ``state_dict``) to load
            instead of training it, or ``None``; the list has one entry per source.
        pretrain_epochs: epochs of clean training (of f, and of the sources without a checkpoint) before
            the first round; at least 1 when a source has no checkpoint.
        epochs_per_round: epochs of each round (the snapshot is retaken at the start of every round).
        seed: seed of the (attack, member) draws (with the epoch, batch index and rank).
        lambda1: weight of the adversarial cross-entropy (MNIST 0.3, CIFAR-10 0.6).
        lambda2: weight of the triplet term (1.0 in the paper; 0 for plain adversarial training).
        alpha: the triplet margin.
        distance: the norm of the logit distance (the paper: ``"Linf"``).
        **kwargs: the :class:`RobustClassifier` arguments (optimizer, num_classes, mean, std, ...).
    """

    def __init__(
        self,
        backbone: nn.Module,
        attacks: dict[str, Attack],
        sources: list[nn.Module] | None = None,
        setting: Setting = "known",
        source_checkpoints: list[str | None] | None = None,
        pretrain_epochs: int = 0,
        epochs_per_round: int = 1,
        seed: int = 0,
        lambda1: float = 0.3,
        lambda2: float = 1.0,
        alpha: float = 1.0,
        distance: Norm = "Linf",
        **kwargs: Any,
    ) -> None:
        mean, std = kwargs.get("mean"), kwargs.get("std")
        rounds = EnsembleRounds(
            attacks,
            backbone,
            list(sources or []),
            setting,
            source_checkpoints,
            pretrain_epochs,
            epochs_per_round,
            seed,
            mean=mean if mean is not None else 0.0,
            std=std if std is not None else 1.0,
        )
        super().__init__(backbone, rounds, lambda1, lambda2, alpha, distance, attack_mode="eval", **kwargs)
        for name in ("attacks", "sources"):  # built in Python: live objects, kept out like the backbone
            if _holds_live_objects(self.hparams.get(name)):
                self.hparams.pop(name)

    @property
    def rounds(self) -> EnsembleRounds:
        """The members, their rounds and the crafting (the training attack of this defense)."""
        return self.attack

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit":
            self.rounds.load_sources()

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.rounds.start_epoch(self.current_epoch, self.backbone)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        super().on_train_batch_start(batch, batch_idx)
        if batch_idx == 0:  # a source of another shape than the data is named before it fails
            self.rounds.check_sources(batch[0], self.num_classes)
        self.rounds.start_batch(self.current_epoch, batch_idx, self.global_rank)

    def training_loss(self, x: Tensor, y: Tensor, *extra: Tensor) -> TrainingOutput:
        """Pretraining epochs: f's cross-entropy plus the training sources'; rounds: Eq. 2."""
        if self.rounds.round_at(self.current_epoch) is not None:
            return super().training_loss(x, y, *extra)
        output = RobustClassifier.training_loss(self, x, y)
        source_loss = self.rounds.source_loss(x, y)
        self.log("train/source_loss", source_loss, batch_size=len(y))
        return TrainingOutput(output.loss + source_loss, output.logits)


def _holds_live_objects(value: object) -> bool:
    """Whether ``value`` is or contains (in dictionaries and lists) a module or another callable: what a
    weights-only checkpoint cannot hold (through the CLI, hyper-parameters are ``class_path`` configs)."""
    if isinstance(value, Mapping):
        return any(_holds_live_objects(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_live_objects(item) for item in value)
    return callable(value) or isinstance(value, nn.Module)
