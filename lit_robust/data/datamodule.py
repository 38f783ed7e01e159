"""`ImageDataModule`: lit_robust's one LightningDataModule, over any image source and precomputing steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader

from lit_robust.data.augment import crop_and_flip
from lit_robust.data.dataset import Batch, TensorImageDataset, keep_batch
from lit_robust.data.rng_state import global_rng_state, set_global_rng_state
from lit_robust.data.sampler import EpochShuffle, ShardSampler
from lit_robust.data.seeding import global_seed
from lit_robust.data.source import ImageSource
from lit_robust.data.step import PrecomputeStep, SplitData, Stage
from lit_robust.pixels import to_unit_range
from lit_robust.validation import check_int

STAGES = ("fit", "validate", "test", "predict")


def check_val_size(val_size: int | float) -> None:
    """Raises a ValueError unless ``val_size`` is a count >= 0 or a fraction in [0, 1)."""
    is_count = isinstance(val_size, int) and not isinstance(val_size, bool) and val_size >= 0
    is_fraction = isinstance(val_size, float) and 0.0 <= val_size < 1.0
    if not (is_count or is_fraction):
        raise ValueError(f"val_size must be a count >= 0 or a fraction in [0, 1), got {val_size!r}.")


class ImageDataModule(LightningDataModule):
    """The splits of an image ``source``, held in memory as uint8, changed once by ``steps``, served as
    batches of floats in [0, 1] on the device.

    In YAML::

        data:  # the CLI's data section is this class's arguments
          source: {class_path: MNIST, init_args: {data_dir: data, sample: true}}
          batch_size: 128
          val_size: 5000
          steps:  # optional, run in order at setup
            - {class_path: ConstantPerturbations, init_args: {copies: 10, eps: 0.3}}

    The metadata ``num_classes``, ``in_channels``, ``input_size``, ``mean`` and ``std`` is the source's,
    known without loading any data, so the CLI links it into the model when both are instantiated.

    ``setup("fit")`` holds out a seeded validation split of the source's training split (the same split for
    the same ``seed`` and ``val_size``); ``val_size=0`` means no validation: ``val_dataloader`` returns an
    empty list, so Lightning skips the validation loop (warning that its length is zero), and
    ``setup("validate")`` raises. ``test`` and ``predict`` use the source's test split. Each split, once
    built, goes through the ``steps`` (:class:`~lit_robust.data.step.PrecomputeStep`: constant perturbations,
    pixel redraw) and is kept: ``setup`` never rebuilds a split that is set (:attr:`train_data`,
    :attr:`val_data`, :attr:`test_data`).

    Batches reach the model as float images in [0, 1] (converted on the device in
    :meth:`on_after_batch_transfer`; a step's float batches pass as they are) and int64 labels. While
    training, and only when ``augment`` is set, every batch is randomly cropped with ``input_size // 8``
    pixels of zero padding (4 for 32x32 images) and, where the source allows it (``hflip``), mirrored.

    With ``device_resident`` each loader first copies its whole split, still uint8, to the trainer's device
    (from about 55 MB for MNIST to about 300 MB for SVHN) and indexes its batches there: no worker
    processes and no host-to-device copy per batch. The loaders stay ordinary ``DataLoader`` objects with
    the same samplers, so the shuffling is the CPU path's for the same seed, and under DDP Lightning gives
    each rank its ``DistributedSampler`` shard of the training data as usual. Under DDP the validation,
    test and predict loaders use a :class:`~lit_robust.data.sampler.ShardSampler`: every point exactly once
    over the ranks (Lightning's sampler would repeat some to even out the shards), so ``val/acc`` is the
    single-process value. Outside a Trainer the data stays on the CPU.

    Runs resume exactly: the training order of each epoch follows from the global seed (``seed_everything``),
    ``seed`` and the epoch (:class:`~lit_robust.data.sampler.EpochShuffle`), and :meth:`state_dict` puts the
    global random state in every checkpoint, so a run resumed from ``last.ckpt`` is bit-identical to an
    uninterrupted one on the CPU.

    Args:
        source: Where the images come from (:class:`~lit_robust.data.source.ImageSource`: ``MNIST``,
            ``CIFAR10``, ``SyntheticImages``, ...).
        batch_size: Training batch size.
        eval_batch_size: Batch size for validation, test and predict; ``None`` uses ``batch_size``.
        val_size: Images of the training split held out for validation: a count, or a fraction in [0, 1)
            (rounded, at least one image); 0 disables validation.
        seed: Seed of the train/validation split and, with the global seed, of the training order.
        num_workers: DataLoader worker processes (0 loads in the main process).
        augment: Randomly crop (and flip, where the source allows it) training batches.
        device_resident: Keep each split on the trainer's device and index batches there (requires
            ``num_workers=0``).
        steps: Precomputing steps run in order on every split at setup.
    """

    def __init__(
        self,
        source: ImageSource,
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        val_size: int | float = 0.1,
        seed: int = 0,
        num_workers: int = 0,
        augment: bool = False,
        device_resident: bool = False,
        steps: Sequence[PrecomputeStep] = (),
    ) -> None:
        super().__init__()
        if not isinstance(source, ImageSource):
            raise TypeError(
                f"source must be an ImageSource (MNIST, CIFAR10, ...), got {type(source).__name__}."
            )
        bad_steps = [type(step).__name__ for step in steps if not isinstance(step, PrecomputeStep)]
        if bad_steps:
            raise TypeError(f"steps must be PrecomputeSteps, got {', '.join(bad_steps)}.")
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
        # the source and steps are objects, not hyper-parameters (the CLI keeps the config that built them)
        self.save_hyperparameters(ignore=["source", "steps"])
        self.source = source
        self.steps = list(steps)
        self.train_data: SplitData | None = None
        self.val_data: SplitData | None = None
        self.test_data: SplitData | None = None

    # ------------------------------------------------------------------------------------ metadata
    @property
    def num_classes(self) -> int:
        return self.source.num_classes

    @property
    def in_channels(self) -> int:
        return self.source.in_channels

    @property
    def input_size(self) -> int:
        return self.source.input_size

    @property
    def mean(self) -> tuple[float, ...]:
        return tuple(self.source.mean)

    @property
    def std(self) -> tuple[float, ...]:
        return tuple(self.source.std)

    # ------------------------------------------------------------------------------------ data
    def prepare_data(self) -> None:
        """Makes the source's raw data available (finds or downloads it).

        Raises:
            DatasetNotFoundError: if the files are missing; its message says how to get them.
        """
        self.source.prepare()

    def setup(self, stage: str) -> None:
        """Builds the data of ``stage``: train and val for fit, val for validate, test for test/predict."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}.")
        if stage == "validate" and self.hparams.val_size == 0:
            raise ValueError("val_size is 0, so there is no validation split: set val_size above 0.")
        if stage == "fit" and self.train_data is None:
            train, val = self._split_train()
            self.train_data = self._stepped("train", train)
            self.val_data = None if val is None else self._stepped("val", val)
        elif stage == "validate" and self.val_data is None:
            self.val_data = self._stepped("val", self._split_train()[1])
        elif stage in ("test", "predict") and self.test_data is None:
            self.test_data = self._stepped("test", self.source.load("test"))

    def _stepped(self, split: Stage, data: Batch) -> SplitData:
        result: SplitData = data
        for step in self.steps:
            result = step(split, result, self.source)
        return result

    def _split_train(self) -> tuple[Batch, Batch | None]:
        """Seeded split of the source's training split into training and validation data."""
        images, labels = self.source.load("train")
        total = labels.shape[0]
        val_size = self.hparams.val_size
        num_val = val_size
        if isinstance(val_size, float):
            num_val = max(1, round(val_size * total)) if val_size > 0 else 0
        if num_val >= total:
            raise ValueError(
                f"val_size={val_size!r} leaves no training images: the {type(self.source).__name__} training"
                f" split has {total} images, so val_size must be below {total} (or a smaller fraction)."
            )
        order = torch.randperm(total, generator=torch.Generator().manual_seed(self.hparams.seed))
        val_index, train_index = order[:num_val].sort().values, order[num_val:].sort().values
        val = (images[val_index], labels[val_index]) if num_val else None
        return (images[train_index], labels[train_index]), val

    # ------------------------------------------------------------------------------------ loaders
    def _loader(self, data: SplitData | None, stage: str, batch_size: int, shuffle: bool) -> DataLoader:
        """A loader of whole batches over ``data``: ``(images, labels)`` tensors, or a step's dataset with
        ``__getitems__`` and ``to(device)``."""
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

    # ------------------------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint: the global random state (see :mod:`lit_robust.data.rng_state`), so a
        run resumed from it shuffles, augments and draws dropout exactly as the uninterrupted run."""
        return {"rng": global_rng_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores the global random state saved by :meth:`state_dict` (checkpoints without it: nothing)."""
        if "rng" in state_dict:
            set_global_rng_state(state_dict["rng"])

    # ------------------------------------------------------------------------------------ batches
    def augment_batch(self, images: Tensor) -> Tensor:
        """Augments a float training batch: random crop (``input_size // 8`` padding), flip if ``hflip``."""
        return crop_and_flip(images, padding=self.input_size // 8, hflip=self.source.hflip)

    def on_after_batch_transfer(self, batch: Batch, dataloader_idx: int) -> Batch:
        """Converts uint8 images to floats in [0, 1] on the device (a step's float images pass as they are);
        augments them while training."""
        images, labels = batch
        images = to_unit_range(images)
        if self.hparams.augment and self.trainer is not None and self.trainer.training:
            images = self.augment_batch(images)
        return images, labels
