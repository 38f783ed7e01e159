"""ImageDataModule: argument checks, seeded split, stages, steps, loaders and batch conversion."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from lit_robust.data import ImageDataModule, ImageSource, PrecomputeStep, SyntheticImages
from lit_robust.data.dataset import Batch
from lit_robust.data.source import Split


class IndexedSource(ImageSource):
    """Every pixel of image i is i (train) or 200 + i (test), so splits can be told apart by value."""

    num_classes = 10
    in_channels = 1
    input_size = 8
    mean = (0.5,)
    std = (0.25,)
    sizes = {"train": 100, "test": 30}

    def load(self, split: Split) -> Batch:
        count = self.sizes[split]
        ids = torch.arange(count) + (200 if split == "test" else 0)
        images = ids.view(-1, 1, 1, 1).expand(-1, 1, 8, 8).to(torch.uint8).clone()
        return images, ids % 10


def IndexedImages(**kwargs) -> ImageDataModule:
    return ImageDataModule(IndexedSource(), **kwargs)


def ids(data: Batch) -> list[int]:
    return data[0][:, 0, 0, 0].tolist()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -5}, "batch_size"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"eval_batch_size": 0}, "eval_batch_size"),
        ({"val_size": -1}, "val_size"),
        ({"val_size": 1.0}, "val_size"),
        ({"val_size": 2.5}, "val_size"),
        ({"val_size": True}, "val_size"),
        ({"seed": -1}, "seed"),
        ({"num_workers": -1}, "num_workers"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be .*, got "):
        IndexedImages(**kwargs)


def test_hyperparameters_are_saved():
    datamodule = IndexedImages(batch_size=7, val_size=0.2, seed=3)
    assert datamodule.hparams.batch_size == 7
    assert datamodule.hparams.val_size == 0.2
    assert datamodule.hparams.seed == 3


def test_split_is_seeded_disjoint_and_complete():
    first, second, other = IndexedImages(seed=1), IndexedImages(seed=1), IndexedImages(seed=2)
    for datamodule in (first, second, other):
        datamodule.setup("fit")
    train, val = ids(first.train_data), ids(first.val_data)
    assert len(train) == 90 and len(val) == 10
    assert set(train).isdisjoint(val)
    assert sorted(train + val) == list(range(100))
    assert ids(second.train_data) == train and ids(second.val_data) == val
    assert ids(other.val_data) != val
    assert first.test_data is None


@pytest.mark.parametrize(("val_size", "expected"), [(25, 25), (0.25, 25), (0.004, 1), (99, 99), (0.0, 0)])
def test_val_size_is_a_count_or_a_fraction(val_size, expected):
    datamodule = IndexedImages(val_size=val_size)
    datamodule.setup("fit")
    assert len(datamodule.train_data[1]) == 100 - expected
    val_images = 0 if datamodule.val_data is None else len(datamodule.val_data[1])
    assert val_images == expected


def test_validate_builds_the_same_validation_split():
    fit, validate = IndexedImages(seed=4), IndexedImages(seed=4)
    fit.setup("fit")
    validate.setup("validate")
    assert ids(validate.val_data) == ids(fit.val_data)
    assert validate.train_data is None


@pytest.mark.parametrize("val_size", [100, 150, 0.999])
def test_val_size_too_large_fails_at_setup(val_size):
    datamodule = IndexedImages(val_size=val_size)
    with pytest.raises(ValueError, match=r"leaves no training images.*has 100 images"):
        datamodule.setup("fit")


def test_zero_val_size_disables_validation():
    datamodule = IndexedImages(val_size=0)
    datamodule.setup("fit")
    assert len(datamodule.train_data[1]) == 100
    assert datamodule.val_dataloader() == []
    with pytest.raises(ValueError, match="val_size is 0"):
        datamodule.setup("validate")


@pytest.mark.parametrize("stage", ["test", "predict"])
def test_test_and_predict_build_only_the_test_split(stage):
    datamodule = IndexedImages(eval_batch_size=16)
    datamodule.setup(stage)
    assert datamodule.train_data is None and datamodule.val_data is None
    loader = datamodule.test_dataloader() if stage == "test" else datamodule.predict_dataloader()
    batches = list(loader)
    assert [len(labels) for _, labels in batches] == [16, 14]
    assert torch.cat([images for images, _ in batches])[:, 0, 0, 0].tolist() == list(range(200, 230))


def test_unknown_stage_and_loader_before_setup_raise():
    datamodule = IndexedImages()
    with pytest.raises(ValueError, match="stage must be one of"):
        datamodule.setup("train")
    with pytest.raises(RuntimeError, match=r"run setup\('fit'\) first"):
        datamodule.train_dataloader()


def test_train_loader_shuffles_keeps_the_last_batch_and_uses_batch_size():
    datamodule = IndexedImages(batch_size=32, val_size=10)
    datamodule.setup("fit")
    batches = list(datamodule.train_dataloader())
    assert [len(labels) for _, labels in batches] == [32, 32, 26]
    seen = [i for images, _ in batches for i in images[:, 0, 0, 0].tolist()]
    assert sorted(seen) == sorted(ids(datamodule.train_data))
    assert seen != ids(datamodule.train_data)
    val_batches = list(datamodule.val_dataloader())
    assert [i for images, _ in val_batches for i in images[:, 0, 0, 0].tolist()] == ids(datamodule.val_data)


def test_metadata_is_the_sources_without_loading():
    datamodule = IndexedImages()
    assert (datamodule.num_classes, datamodule.in_channels, datamodule.input_size) == (10, 1, 8)
    assert (datamodule.mean, datamodule.std) == ((0.5,), (0.25,))
    assert datamodule.train_data is None


def test_a_source_and_steps_of_the_wrong_kind_are_refused():
    with pytest.raises(TypeError, match="source must be an ImageSource"):
        ImageDataModule("MNIST")
    with pytest.raises(TypeError, match="steps must be PrecomputeSteps, got str"):
        ImageDataModule(IndexedSource(), steps=["double"])


class AddToTrain(PrecomputeStep):
    """Adds ``amount`` to the training images; records the splits it saw."""

    def __init__(self, amount: int) -> None:
        self.amount = amount
        self.seen: list[str] = []

    def __call__(self, split, data, source):
        self.seen.append(split)
        assert isinstance(source, IndexedSource)
        return (data[0] + self.amount, data[1]) if split == "train" else data


def test_steps_run_in_order_on_every_split_once():
    first, second = AddToTrain(1), AddToTrain(10)
    datamodule = IndexedImages(steps=[first, second], seed=4)
    plain = IndexedImages(seed=4)
    for data in (datamodule, plain):
        data.setup("fit")
        data.setup("fit")
        data.setup("test")
    assert first.seen == second.seen == ["train", "val", "test"]
    assert [i - 11 for i in ids(datamodule.train_data)] == ids(plain.train_data)
    assert ids(datamodule.val_data) == ids(plain.val_data)
    assert ids(datamodule.test_data) == ids(plain.test_data)


def test_without_validation_the_steps_see_no_val_split():
    step = AddToTrain(1)
    IndexedImages(steps=[step], val_size=0).setup("fit")
    assert step.seen == ["train"]


def test_replaced_train_data_survives_setup_and_feeds_the_loader():
    datamodule = IndexedImages(batch_size=1000)
    datamodule.setup("fit")
    images, labels = datamodule.train_data
    datamodule.train_data = (torch.cat([images, images[:5]]), torch.cat([labels, labels[:5]]))
    datamodule.setup("fit")
    assert len(datamodule.train_data[1]) == 95
    (batch_images, _) = next(iter(datamodule.train_dataloader()))
    assert len(batch_images) == 95


def test_loader_with_a_worker_serves_stacked_batches():
    datamodule = IndexedImages(batch_size=40, num_workers=1)
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    assert loader.persistent_workers
    batches = list(loader)
    assert [tuple(images.shape) for images, _ in batches] == [(40, 1, 8, 8), (40, 1, 8, 8), (10, 1, 8, 8)]


def transfer(datamodule: ImageDataModule, batch: Batch, training: bool | None) -> torch.Tensor:
    datamodule.trainer = None if training is None else SimpleNamespace(training=training)
    images, labels = datamodule.on_after_batch_transfer(batch, 0)
    assert torch.equal(labels, batch[1])
    return images


def test_batches_become_floats_in_unit_range_and_are_augmented_only_while_training():
    datamodule = ImageDataModule(SyntheticImages(num_samples=64, input_size=16), augment=True, val_size=0)
    datamodule.setup("fit")
    batch = datamodule.train_data
    expected = batch[0].float() / 255
    for training in (None, False):
        images = transfer(datamodule, batch, training)
        assert images.dtype == torch.float32
        assert torch.equal(images, expected)
    augmented = transfer(datamodule, batch, True)
    assert augmented.shape == expected.shape and augmented.dtype == torch.float32
    assert augmented.min() >= 0 and augmented.max() <= 1
    assert not torch.equal(augmented, expected)


def test_augment_off_leaves_training_batches_alone():
    datamodule = ImageDataModule(SyntheticImages(num_samples=16, input_size=16), augment=False, val_size=0)
    datamodule.setup("fit")
    assert torch.equal(transfer(datamodule, datamodule.train_data, True), datamodule.train_data[0] / 255)
