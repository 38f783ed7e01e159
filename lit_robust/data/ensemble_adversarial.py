"""`EnsembleAdversarialExamples`: the rounds of ensemble AT2L (Li et al. 2019, Algorithm 2) as a datamodule.

Algorithm 2: train f on X; then, in every round, craft ``X^{a,m}`` for every attack ``a`` in A and every
model ``m`` in M, and train f on mini-batches that pair k clean examples with one adversarial example of each
(Eq. 2). This wrapper crafts the round's examples when Lightning asks for the training loader (the trainer
must reload it every epoch) and serves ``(x, y, x_adv)`` batches; the defense trains on the given ``x_adv``
(:class:`~lit_robust.defenses.EnsembleTripletAdversarialTraining`; any ``AdversarialTraining`` too, which
crafts its own examples on the clean pretraining batches).

Which models are in M, and which are trained:

- ``sources`` are static (as in Tramer et al.'s ensemble adversarial training, which the paper adopts):
  trained once with standard training on the clean training split before the first round (or loaded from a
  checkpoint) and frozen.
- ``setting: known`` puts the evaluated model itself in M, attacked with its current weights at the start
  of every round (with no sources this is Algorithm 1 in rounds); ``setting: unknown`` leaves it and its
  structure out: M holds only sources, none of the backbone's class. Only the evaluated model changes between
  rounds, so in the unknown setting every round crafts from the same fixed models: rounds then differ only by
  the attacks' randomness and, with ``examples_per_image``, by the pairs drawn.

Algorithm 2 does not say whether the models of M are retrained; the paper adopts Tramer et al.'s static
sources, and its Algorithm 1 (M = {f}) crafts against the current f, which is what is done here.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from lit_robust.attacks import Attack
from lit_robust.data.base import InMemoryImageDataModule, check_int
from lit_robust.data.dataset import Batch, keep_batch
from lit_robust.data.sampler import EpochShuffle
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.source_models import SourceModel, train_source
from lit_robust.data.wrapper import DataModuleWrapper
from lit_robust.model_state import seeded_global_rng

Setting = Literal["known", "unknown"]
Triple = tuple[Tensor, Tensor, Tensor]
EVALUATED = "model"
"""Name of the evaluated model among the members of M."""


class AdversarialPairs(Dataset[Triple]):
    """uint8 clean images, labels and one float adversarial example of each; serves whole batches.

    Args:
        images: uint8 images ``(N, C, H, W)``.
        labels: int64 labels ``(N,)``.
        adversarial: float adversarial examples in [0, 1], ``(N, C, H, W)``, one per image.
    """

    def __init__(self, images: Tensor, labels: Tensor, adversarial: Tensor) -> None:
        if not images.shape[0] == labels.shape[0] == adversarial.shape[0]:
            raise ValueError(
                f"got {images.shape[0]} images, {labels.shape[0]} labels, {adversarial.shape[0]} examples."
            )
        self.images, self.labels, self.adversarial = images, labels, adversarial

    def __len__(self) -> int:
        return self.labels.shape[0]

    def __getitem__(self, index: int) -> Triple:
        return self.images[index], self.labels[index], self.adversarial[index]

    def __getitems__(self, indices: list[int]) -> Triple:
        index = torch.as_tensor(indices, dtype=torch.long)
        return self.images[index], self.labels[index], self.adversarial[index]


class EnsembleAdversarialExamples(DataModuleWrapper):
    """Wraps a datamodule; its training batches become ``(x, y, x_adv)`` with ``x_adv`` crafted in rounds by
    every attack of ``attacks`` against every model of M (see the module docstring for M and the settings).

    Epochs ``0 .. pretrain_epochs - 1`` serve the base's clean ``(x, y)`` batches (Algorithm 2, step 1).
    Then every ``epochs_per_round`` epochs a round crafts, for every training image, the examples of
    ``examples_per_image`` (attack, model) pairs drawn at random without replacement, or of every pair when it
    is ``None`` (Algorithm 2 verbatim); each epoch pairs every clean image with one of its examples drawn at
    random (the paper's "sample k adversarial examples, each the adversarial example of x_i"). With one epoch
    per round, one example per image is statistically the same as crafting all and sampling one, at
    ``1 / (|A| |M|)`` of the cost.

    The examples are kept as float32 (an 8-bit copy would round the perturbation to 1/255 steps), which takes
    ``4 * N * pixels * examples`` bytes: 3 GB for 55,000 MNIST images with 16 (attack, model) pairs. Each DDP
    rank crafts the whole set. A run resumed from a checkpoint starts a new round. The trainer must reload
    the training loader every epoch (``trainer.reload_dataloaders_every_n_epochs: 1``); a round's examples are
    crafted on the model's device in eval mode, ``craft_batch_size`` images at a time.

    Args:
        base: the datamodule whose training split is used (its batch size; its ``augment`` has no effect).
        attacks: the set A by name (``FGSM``, ``LL``, ``BIM`` for I-FGSM, ``ILL``, ``CarliniWagnerL2``, ...).
        sources: static networks of M besides the evaluated model (``MnistModelB``, ...), taking normalised
            images like the defended backbone.
        setting: ``"known"`` (the evaluated model is in M) or ``"unknown"`` (neither it nor its structure).
        source_checkpoints: per source, a lit-robust checkpoint (or plain backbone ``state_dict``) to load
            instead of training it, or ``None``; the list has one entry per source.
        source_epochs: epochs of standard training of each source without a checkpoint.
        source_lr: Adam learning rate of that training.
        pretrain_epochs: epochs of clean training of the evaluated model before the first round.
        epochs_per_round: epochs trained on each round's examples.
        examples_per_image: (attack, model) pairs crafted per image and round; ``None`` for all of them.
        craft_batch_size: images attacked at once.
        seed: seed of the pair draws, the per-epoch choices and the sources' batch order.
        progress: show progress bars while training sources and crafting.
    """

    def __init__(
        self,
        base: InMemoryImageDataModule,
        attacks: dict[str, Attack],
        sources: list[nn.Module] | None = None,
        setting: Setting = "known",
        source_checkpoints: list[str | None] | None = None,
        source_epochs: int = 1,
        source_lr: float = 1e-3,
        pretrain_epochs: int = 0,
        epochs_per_round: int = 1,
        examples_per_image: int | None = None,
        craft_batch_size: int = 256,
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        sources = list(sources or [])
        members = len(sources) + (setting == "known")
        _check_arguments(attacks, sources, setting, source_checkpoints, members, examples_per_image)
        check_int("source_epochs", source_epochs, 0)
        check_int("pretrain_epochs", pretrain_epochs, 0)
        check_int("epochs_per_round", epochs_per_round, 1)
        check_int("craft_batch_size", craft_batch_size, 1)
        super().__init__(base, seed=seed)
        self.attacks = dict(attacks)
        self.setting: Setting = setting
        self.sources = [SourceModel(source, self.mean, self.std) for source in sources]
        self.checkpoints = list(source_checkpoints or [None] * len(sources))
        self.pairs: list[tuple[str, str]] = []
        """The (attack, model) names of the pairs, indexed like :attr:`pair_index`."""
        self.pair_index: Tensor | None = None
        """``(examples, N)``: which pair crafted each stored example of the current round."""
        self.examples: Tensor | None = None
        """``(examples, N, C, H, W)`` float32: the current round's adversarial examples."""
        self.round_index: int | None = None
        """The round :attr:`examples` belong to (``None`` before the first)."""
        self._sources_ready = False

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit" and self.train_data is None:
            self.train_data = self.base.train_data

    def on_after_batch_transfer(self, batch: Batch | Triple, dataloader_idx: int) -> Batch | Triple:
        """uint8 images to floats in [0, 1] (never augmented); the adversarial examples are floats already."""
        images, *rest = batch
        return (images.float().div_(255), *rest)

    # ---------------------------------------------------------------------------------------- rounds
    def train_dataloader(self) -> DataLoader:
        """Clean batches while pretraining; afterwards ``(x, y, x_adv)`` batches, crafting a new round first
        when one starts (or when none has been crafted yet in this process, as after resuming)."""
        trainer = self.trainer
        if trainer is None:
            raise RuntimeError(
                "EnsembleAdversarialExamples crafts against the model being trained: use it in Trainer.fit."
            )
        if trainer.reload_dataloaders_every_n_epochs != 1:
            raise ValueError(
                "EnsembleAdversarialExamples crafts each round when the training loader is requested: set "
                "trainer.reload_dataloaders_every_n_epochs to 1, got "
                f"{trainer.reload_dataloaders_every_n_epochs}."
            )
        model = trainer.lightning_module
        self.check_setting(model)
        # The epoch about to be trained: current_epoch, except right after resuming from an end-of-epoch
        # checkpoint, where current_epoch still names the finished epoch while the loader is first built.
        epoch, pretrain = trainer.fit_loop.epoch_progress.current.processed, self.hparams.pretrain_epochs
        if epoch < pretrain:
            return self.base.train_dataloader()
        round_index = (epoch - pretrain) // self.hparams.epochs_per_round
        if round_index != self.round_index:
            self.craft_round(model, round_index)
        images, labels = self.train_data
        seed = self.hparams.seed
        choice = torch.randint(len(self.examples), (len(labels),), generator=seeded_generator(seed, epoch))
        adversarial = self.examples[choice, torch.arange(len(labels))]
        pairs = AdversarialPairs(images, labels, adversarial)
        return DataLoader(
            pairs,
            batch_size=self.base.hparams.batch_size,
            sampler=EpochShuffle(pairs, (seed, 1), epoch),
            collate_fn=keep_batch,
        )

    def state_dict(self) -> dict[str, Any]:
        """The global random state and, when a round lasts several epochs, the current round's examples
        (``(examples, N, C, H, W)`` float32 in every checkpoint), so that a run resumed in the middle of a
        round trains on the examples crafted at its start, as the uninterrupted run does."""
        state = super().state_dict()
        if self.hparams.epochs_per_round > 1 and self.examples is not None:
            state["round"] = {
                "index": self.round_index,
                "examples": self.examples,
                "pair_index": self.pair_index,
            }
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        if "round" in state_dict:
            held = state_dict["round"]
            self.round_index, self.examples, self.pair_index = (
                held["index"],
                held["examples"],
                held["pair_index"],
            )

    def check_setting(self, model: nn.Module) -> None:
        """Raises a ValueError when ``setting: unknown`` but a source has the structure (class) of the
        evaluated model's ``backbone``."""
        structure = type(getattr(model, "backbone", model))
        if self.setting == "unknown" and any(type(s.backbone) is structure for s in self.sources):
            raise ValueError(
                f"setting 'unknown' leaves the evaluated structure out of M, but a source is a "
                f"{structure.__name__} like the model's backbone: remove it, or use setting 'known'."
            )

    def members(self, model: nn.Module) -> dict[str, nn.Module]:
        """M by name: the evaluated model (known setting) and the sources, ready to attack."""
        if not self._sources_ready:
            self.prepare_sources(next(model.parameters()).device)
        names = [f"{i}:{type(s.backbone).__name__}" for i, s in enumerate(self.sources)]
        found = dict(zip(names, self.sources, strict=True))
        return {EVALUATED: model, **found} if self.setting == "known" else found

    def prepare_sources(self, device: torch.device) -> None:
        """Loads or trains every source once, on ``device``, and freezes it."""
        for index, (source, checkpoint) in enumerate(zip(self.sources, self.checkpoints, strict=True)):
            if checkpoint is not None:
                source.load_checkpoint(checkpoint)
                source.to(device).freeze()
            else:  # dropout seeded too, apart from the global stream: the same sources whenever this runs
                with seeded_global_rng(seeded_generator(self.hparams.seed, 4, index).initial_seed(), device):
                    train_source(
                        source,
                        self.train_data,
                        self.hparams.source_epochs,
                        self.base.hparams.batch_size,
                        self.hparams.source_lr,
                        order=seeded_generator(self.hparams.seed, 2, index),
                        device=device,
                        progress=self.hparams.progress,
                    )
        self._sources_ready = True

    def craft_round(self, model: nn.Module, round_index: int) -> None:
        """Crafts this round's examples into :attr:`examples` (see :attr:`pairs` and :attr:`pair_index`)."""
        members = self.members(model)
        self.pairs = [(attack, member) for attack in self.attacks for member in members]
        images, labels = self.train_data
        count = self.hparams.examples_per_image
        if count is None:  # every pair, in order
            count = len(self.pairs)
            self.pair_index = torch.arange(count).unsqueeze(1).expand(count, len(labels)).contiguous()
        else:  # count distinct pairs per image, drawn at random
            draw = torch.rand(
                len(labels), len(self.pairs), generator=seeded_generator(self.hparams.seed, 3, round_index)
            )
            self.pair_index = draw.argsort(dim=1)[:, :count].T.contiguous()
        self.examples = torch.empty((count, *images.shape), dtype=torch.float32)
        self.round_index = round_index
        device, size = next(model.parameters()).device, self.hparams.craft_batch_size
        jobs = [
            (pair, slot[start : start + size], index[start : start + size])
            for pair in range(len(self.pairs))
            for slot, index in [(self.pair_index == pair).nonzero(as_tuple=True)]
            for start in range(0, len(index), size)
        ]
        from lit_robust.defenses.attack_mode import module_mode  # here: lit_robust.defenses imports data

        with module_mode(model, "eval"):
            for pair, slot, index in tqdm(
                jobs, desc=f"round {round_index}: crafting", disable=not self.hparams.progress
            ):
                attack, member = self.pairs[pair]
                x = images[index].to(device).float().div_(255)
                x_adv = self.attacks[attack](members[member], x, labels[index].to(device))
                self.examples[slot, index] = x_adv.detach().float().cpu()


def _check_arguments(
    attacks: dict[str, Attack],
    sources: list[nn.Module],
    setting: str,
    checkpoints: list[str | None] | None,
    members: int,
    examples_per_image: int | None,
) -> None:
    if not attacks:
        raise ValueError("attacks must name at least one attack (the set A of Algorithm 2).")
    if setting not in ("known", "unknown"):
        raise ValueError(f"setting must be 'known' or 'unknown', got {setting!r}.")
    if setting == "unknown" and not sources:
        raise ValueError("setting 'unknown' attacks only the sources, so give at least one source.")
    if checkpoints is not None and len(checkpoints) != len(sources):
        raise ValueError(
            f"source_checkpoints needs one entry (a path or null) per source: got {len(checkpoints)} for "
            f"{len(sources)} sources."
        )
    if examples_per_image is not None:
        pairs = len(attacks) * members
        check_int("examples_per_image", examples_per_image, 1)
        if examples_per_image > pairs:
            raise ValueError(
                f"examples_per_image must be at most the {pairs} (attack, model) pairs, "
                f"got {examples_per_image}."
            )
