"""The base of lit_robust's datamodules: uint8 images in memory, floats in [0, 1] on the device."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import torch
from lightning.pytorch import LightningDataModule, Trainer
from lightning.pytorch.core.mixins import HyperparametersMixin
from lightning.pytorch.utilities.parsing import collect_init_args
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from lit_robust.data.augment import crop_and_flip
from lit_robust.data.dataset import Batch, TensorImageDataset, keep_batch
from lit_robust.data.rng_state import global_rng_state, set_global_rng_state
from lit_robust.data.sampler import EpochShuffle, ShardSampler
from lit_robust.data.seeding import global_seed

Split = Literal["train", "test"]
STAGES = ("fit", "validate", "test", "predict")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's raw files are missing; the message says where they were looked for and how to get them."""


def check_int(name: str, value: int, minimum: int) -> None:
    """Raises a ValueError naming ``name`` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _live_arguments(frame: FrameType | None) -> list[str]:
    """Constructor arguments (of the whole ``__init__`` chain at ``frame``) that are live objects: modules
    (a wrapper's pixel redrawer), datamodules (a wrapper's base), callables (attacks), or collections of
    them (the sources and attacks of ensemble AT2L). They are not hyperparameters (a datamodule keeps its
    own), the YAML config that built them is kept by the CLI, and pickled objects would stop the checkpoint
    from loading with ``weights_only=True``."""
    names = []
    for arguments in collect_init_args(frame, [], classes=(HyperparametersMixin,)):
        names += [name for name, value in arguments.items() if _is_live(value)]
    return names


def _is_live(value: object) -> bool:
    if isinstance(value, Mapping):
        return any(_is_live(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_is_live(v) for v in value)
    return isinstance(value, (nn.Module, LightningDataModule)) or callable(value)


def check_val_size(val_size: int | float) -> None:
    """Raises a ValueError unless ``val_size`` is a count >= 0 or a fraction in [0, 1)."""
    is_count = isinstance(val_size, int) and not isinstance(val_size, bool) and val_size >= 0
    is_fraction = isinstance(val_size, float) and 0.0 <= val_size < 1.0
    if not (is_count or is_fraction):
        raise ValueError(f"val_size must be a count >= 0 or a fraction in [0, 1), got {val_size!r}.")


class InMemoryImageDataModule(LightningDataModule):
    """A dataset held in memory as uint8 images ``(N, C, H, W)`` and int64 labels.

    Batches reach the model as float images in [0, 1] (converted on the device in
    :meth:`on_after_batch_transfer`) and int64 labels. While training, and only when ``augment`` is set,
    the images are randomly cropped with ``input_size // 8`` pixels of zero padding (4 for 32x32 images)
    and, where the class sets ``hflip``, mirrored left-right.

    The class metadata ``num_classes``, ``in_channels``, ``input_size`` and the per-channel ``mean`` and
    ``std`` of the training images are known without loading any data, so the CLI can link them into the
    model when both are instantiated.

    ``setup("fit")`` holds out a seeded validation split of the raw training split (the same split for the
    same ``seed`` and ``val_size``); ``val_size=0`` means no validation: ``val_dataloader`` returns an empty
    list, so Lightning skips the validation loop (warning that its length is zero), and
    ``setup("validate")`` raises. ``test`` and ``predict`` use the raw test split.

    Wrappers that extend the training set read and replace :attr:`train_data`: after ``setup("fit")`` it
    is the ``(images, labels)`` tuple of the training split; ``setup`` never rebuilds a split that is
    already set, and :meth:`train_dataloader` reads the attribute at each call. :attr:`val_data` and
    :attr:`test_data` work the same way.

    With ``device_resident`` each loader first copies its whole split, still uint8, to the trainer's device
    (from about 55 MB for MNIST to about 300 MB for SVHN) and indexes its batches there: no worker
    processes and no host-to-device copy per batch. The loaders stay ordinary ``DataLoader`` objects with
    the same samplers, so the shuffling is the CPU path's for the same seed, and under DDP Lightning gives
    each rank its ``DistributedSampler`` shard of the training data as usual. Under DDP the validation,
    test and predict loaders use a :class:`~lit_robust.data.sampler.ShardSampler`: every point exactly once
    over the ranks (Lightning's sampler would repeat some to even out the shards). A wrapper (constant
    perturbations, pixel redrawn) serves its base's loaders, so set the option on the base; the wrapper
    passes its trainer on to the base (see :attr:`trainer`). Outside a Trainer the data stays on the CPU.

    Runs resume exactly: the training order of each epoch follows from the global seed (``seed_everything``),
    ``seed`` and the epoch (:class:`~lit_robust.data.sampler.EpochShuffle`), and :meth:`state_dict` puts the
    global random state in every checkpoint, so a run resumed from ``last.ckpt`` is bit-identical to an
    uninterrupted one on the CPU. Under DDP the evaluation loaders give each rank an unpadded share
    (:class:`~lit_robust.data.sampler.ShardSampler`), so ``val/acc`` is the single-process value.

    Subclasses set the metadata and implement :meth:`load_split`; those that read files also implement
    :meth:`find_raw_dir`, :meth:`missing_data_message` and, when they can, :meth:`download`.

    Args:
        data_dir: Directory holding (or receiving) the raw files.
        batch_size: Training batch size.
        eval_batch_size: Batch size for validation, test and predict; ``None`` uses ``batch_size``.
        val_size: Images of the training split held out for validation: a count, or a fraction in [0, 1)
            (rounded, at least one image); 0 disables validation.
        seed: Seed of the train/validation split and, with the global seed, of the training order.
        num_workers: DataLoader worker processes (0 loads in the main process).
        augment: Randomly crop (and flip, where the dataset allows it) training batches.
        download: Download the raw files with torchvision when they are not found.
        device_resident: Keep each split on the trainer's device and index batches there (requires
            ``num_workers=0``).
    """

    num_classes: int
    in_channels: int
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    hflip: bool = True
    """Whether augmentation mirrors images (off for digits, whose mirror images are not digits)."""

    def __init__(
        self,
        data_dir: str = "data",
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        val_size: int | float = 0.1,
        seed: int = 0,
        num_workers: int = 0,
        augment: bool = False,
        download: bool = False,
        device_resident: bool = False,
    ) -> None:
        super().__init__()
        check_int("batch_size", batch_size, 1)
        if eval_batch_size is not None:
            check_int("eval_batch_size", eval_batch_size, 1)
        check_val_size(val_size)
        check_int("seed", seed, 0)
        check_int("num_workers", num_workers, 0)
        if device_resident and num_workers:
            raise ValueError(
                "device_resident indexes the batches on the device in the main process: set num_workers to 0"
                f" (got {num_workers})."
            )
        frame = inspect.currentframe()
        self.save_hyperparameters(ignore=_live_arguments(frame), frame=frame)
        self.train_data: Batch | Dataset | None = None  # a Dataset when a wrapper extends it
        self.val_data: Batch | None = None
        self.test_data: Batch | None = None

    @property
    def trainer(self) -> Trainer | None:
        """The Trainer this datamodule serves. Setting it also sets it on every datamodule held as an
        attribute (a wrapper's ``base``), whose loaders the wrapper serves."""
        return self._trainer

    @trainer.setter
    def trainer(self, trainer: Trainer | None) -> None:
        self._trainer = trainer
        for value in list(vars(self).values()):
            if isinstance(value, InMemoryImageDataModule):
                value.trainer = trainer

    def load_split(self, split: Split) -> Batch:
        """Returns the raw ``split`` as uint8 images ``(N, C, H, W)`` and int64 labels ``(N,)``."""
        raise NotImplementedError

    def find_raw_dir(self) -> Path | None:
        """Returns the directory holding the raw files, or ``None`` when they are missing."""
        raise NotImplementedError

    def missing_data_message(self) -> str:
        """Says where the raw files were looked for and how to get them."""
        raise NotImplementedError

    def download(self) -> None:
        """Downloads the raw files into ``data_dir``."""
        raise NotImplementedError(f"{type(self).__name__} cannot download its data.")

    def raw_dir(self) -> Path:
        """The directory holding the raw files; raises :class:`DatasetNotFoundError` when they are missing."""
        found = self.find_raw_dir()
        if found is None:
            raise DatasetNotFoundError(self.missing_data_message())
        return found

    def prepare_data(self) -> None:
        """Finds the raw files, downloading them first when they are missing and ``download`` is set.

        Raises:
            DatasetNotFoundError: if the files are still missing; its message says how to get them.
        """
        if self.hparams.download and self.find_raw_dir() is None:
            self.download()
        self.raw_dir()

    def setup(self, stage: str) -> None:
        """Builds the data of ``stage``: train and val for fit, val for validate, test for test/predict."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}.")
        if stage == "validate" and self.hparams.val_size == 0:
            raise ValueError("val_size is 0, so there is no validation split: set val_size above 0.")
        if stage == "fit" and self.train_data is None:
            self.train_data, self.val_data = self._split_train()
        elif stage == "validate" and self.val_data is None:
            self.val_data = self._split_train()[1]
        elif stage in ("test", "predict") and self.test_data is None:
            self.test_data = self.load_split("test")

    def _split_train(self) -> tuple[Batch, Batch | None]:
        """Seeded split of the raw training split into training and validation data."""
        images, labels = self.load_split("train")
        total = labels.shape[0]
        val_size = self.hparams.val_size
        num_val = val_size
        if isinstance(val_size, float):
            num_val = max(1, round(val_size * total)) if val_size > 0 else 0
        if num_val >= total:
            raise ValueError(
                f"val_size={val_size!r} leaves no training images: the {type(self).__name__} training split"
                f" has {total} images, so val_size must be below {total} (or a smaller fraction)."
            )
        order = torch.randperm(total, generator=torch.Generator().manual_seed(self.hparams.seed))
        val_index, train_index = order[:num_val].sort().values, order[num_val:].sort().values
        val = (images[val_index], labels[val_index]) if num_val else None
        return (images[train_index], labels[train_index]), val

    def _loader(self, data: Batch | Dataset | None, stage: str, batch_size: int, shuffle: bool) -> DataLoader:
        """A loader of whole batches over ``data``: ``(images, labels)`` tensors, or a dataset with
        ``__getitems__`` and ``to(device)`` (a wrapper's extended training set, as ``PerturbedCopies``)."""
        if data is None:
            raise RuntimeError(
                f"{type(self).__name__} has no data for this loader: run setup({stage!r}) first."
            )
        dataset = TensorImageDataset(*data) if isinstance(data, tuple) else data
        if self.hparams.device_resident and self.trainer is not None:
            dataset = dataset.to(self.trainer.strategy.root_device)
        workers = self.hparams.num_workers
        shards = self.trainer.distributed_sampler_kwargs if self.trainer is not None and not shuffle else None
        if shuffle:
            order = EpochShuffle(dataset, (global_seed(), self.hparams.seed))
        else:
            order = ShardSampler(dataset, shards["num_replicas"], shards["rank"]) if shards else None
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=order,
            drop_last=False,
            num_workers=workers,
            persistent_workers=workers > 0,
            collate_fn=keep_batch,
        )

    @property
    def _eval_batch_size(self) -> int:
        return self.hparams.eval_batch_size or self.hparams.batch_size

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_data, "fit", self.hparams.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        if self.hparams.val_size == 0:
            return []
        return self._loader(self.val_data, "validate", self._eval_batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_data, "test", self._eval_batch_size, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.test_data, "predict", self._eval_batch_size, shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint: the global random state (see :mod:`lit_robust.data.rng_state`), so a
        run resumed from it shuffles, augments and draws dropout exactly as the uninterrupted run."""
        return {"rng": global_rng_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores the global random state saved by :meth:`state_dict` (checkpoints without it: nothing)."""
        if "rng" in state_dict:
            set_global_rng_state(state_dict["rng"])

    def augment_batch(self, images: Tensor) -> Tensor:
        """Augments a float training batch: random crop (``input_size // 8`` padding), flip if ``hflip``."""
        return crop_and_flip(images, padding=self.input_size // 8, hflip=self.hflip)

    def on_after_batch_transfer(self, batch: Batch, dataloader_idx: int) -> Batch:
        """Converts uint8 images to floats in [0, 1] on the device (float images, which a wrapper's dataset
        composes, pass as they are); augments them while training."""
        images, labels = batch
        if not images.is_floating_point():
            images = images.float().div_(255)
        if self.hparams.augment and self.trainer is not None and self.trainer.training:
            images = self.augment_batch(images)
        return images, labels
