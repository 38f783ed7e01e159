"""SyntheticImages: deterministic, balanced, learnable data with no files."""

from __future__ import annotations

import pytest
import torch

from lit_robust.data import ImageDataModule, SyntheticImages


def build(val_size: int | float = 0.1, **kwargs) -> ImageDataModule:
    source = SyntheticImages(**{"num_samples": 200, "num_test_samples": 100, "input_size": 12, **kwargs})
    datamodule = ImageDataModule(source, val_size=val_size, seed=source.seed)
    datamodule.prepare_data()
    datamodule.setup("fit")
    datamodule.setup("test")
    return datamodule


def test_shapes_dtypes_and_metadata():
    datamodule = build(in_channels=2, num_classes=4, val_size=20)
    images, labels = datamodule.train_data
    assert images.shape == (180, 2, 12, 12) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and set(labels.tolist()) <= set(range(4))
    assert datamodule.val_data[0].shape == (20, 2, 12, 12)
    assert datamodule.test_data[0].shape == (100, 2, 12, 12)
    assert (datamodule.num_classes, datamodule.in_channels, datamodule.input_size) == (4, 2, 12)
    assert len(datamodule.mean) == len(datamodule.std) == 2


def test_same_seed_same_data_other_seed_other_data():
    first, second, other = build(seed=3), build(seed=3), build(seed=4)
    for name in ("train_data", "val_data", "test_data"):
        assert torch.equal(getattr(first, name)[0], getattr(second, name)[0])
        assert torch.equal(getattr(first, name)[1], getattr(second, name)[1])
    assert not torch.equal(first.test_data[0], other.test_data[0])
    assert not torch.equal(first.train_data[0][:100], first.test_data[0])


def test_labels_are_balanced_and_statistics_match():
    datamodule = build(num_samples=1000, val_size=0)
    images, labels = datamodule.train_data
    assert torch.bincount(labels).tolist() == [100] * 10
    pixels = images.float() / 255
    assert torch.allclose(pixels.mean(dim=(0, 2, 3)), torch.tensor(datamodule.mean), atol=0.02)
    assert torch.allclose(pixels.std(dim=(0, 2, 3)), torch.tensor(datamodule.std), atol=0.02)


def test_nearest_class_mean_learns_it():
    datamodule = build(num_samples=500)
    images, labels = datamodule.train_data
    flat = images.flatten(1).float()
    centroids = torch.stack([flat[labels == k].mean(dim=0) for k in range(10)])
    test_images, test_labels = datamodule.test_data
    predictions = torch.cdist(test_images.flatten(1).float(), centroids).argmin(dim=1)
    assert (predictions == test_labels).float().mean() > 0.9


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_samples": 0}, "num_samples"),
        ({"num_test_samples": -1}, "num_test_samples"),
        ({"num_classes": 1}, "num_classes"),
        ({"in_channels": 0}, "in_channels"),
        ({"input_size": 0}, "input_size"),
        ({"noise_std": -0.1}, "noise_std"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        SyntheticImages(**kwargs)
