"""CIFAR-10 from fake python pickle batches, in colour and in grayscale."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from lit_robust.data import CIFAR10, DatasetNotFoundError, ImageDataModule
from lit_robust.data.cifar import CIFAR_BATCHES, rgb_to_luma


def write_fake_cifar(data_dir: Path, per_batch: int = 6) -> dict[str, np.ndarray]:
    """Writes the six pickle batches as torchvision stores them; returns the rows of each split."""
    directory = data_dir / "cifar-10-batches-py"
    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = {}
    for split, names in CIFAR_BATCHES.items():
        data = rng.integers(0, 256, (len(names) * per_batch, 3072), dtype=np.uint8)
        rows[split] = data
        for i, name in enumerate(names):
            part = data[i * per_batch : (i + 1) * per_batch]
            entry = {"data": part, "labels": [int(v) for v in rng.integers(0, 10, per_batch)]}
            with open(directory / name, "wb") as f:
                pickle.dump(entry, f)
    return rows


def test_loads_the_pickle_batches(tmp_path):
    rows = write_fake_cifar(tmp_path)
    source = CIFAR10(data_dir=str(tmp_path))
    source.prepare()
    images, labels = source.load("train")
    assert images.shape == (30, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.shape == (30,) and labels.dtype == torch.int64
    # A row holds the red plane, then green, then blue, each row-major.
    assert images[7, 1, 2, 5] == rows["train"][7, 1024 + 2 * 32 + 5]
    datamodule = ImageDataModule(source, val_size=3)
    datamodule.setup("fit")
    datamodule.setup("test")
    assert len(datamodule.train_data[1]) == 27 and len(datamodule.val_data[1]) == 3
    assert datamodule.test_data[0].shape == (6, 3, 32, 32)


def test_defaults_and_metadata():
    datamodule = CIFAR10()
    assert datamodule.hflip
    assert (datamodule.num_classes, datamodule.in_channels, datamodule.input_size) == (10, 3, 32)
    assert len(datamodule.mean) == len(datamodule.std) == 3


def test_grayscale_uses_luma_weights(tmp_path):
    write_fake_cifar(tmp_path)
    colour = CIFAR10(data_dir=str(tmp_path)).load("test")[0].double()
    datamodule = CIFAR10(data_dir=str(tmp_path), grayscale=True)
    assert datamodule.in_channels == 1 and len(datamodule.mean) == len(datamodule.std) == 1
    gray = datamodule.load("test")[0]
    assert gray.shape == (6, 1, 32, 32) and gray.dtype == torch.uint8
    luma = 0.299 * colour[:, 0] + 0.587 * colour[:, 1] + 0.114 * colour[:, 2]
    assert (gray[:, 0] - luma).abs().max() <= 0.5 + 1e-9  # rounded to the nearest integer


def test_rgb_to_luma_of_pure_colours():
    pixels = torch.tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]], dtype=torch.uint8)
    images = pixels.view(4, 3, 1, 1)
    assert rgb_to_luma(images).flatten().tolist() == [76, 150, 29, 255]


def test_missing_cifar_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        CIFAR10(data_dir=str(tmp_path)).prepare()
    message = str(error.value)
    assert str(tmp_path / "cifar-10-batches-py") in message
    assert "data_batch_1" in message and "test_batch" in message
    assert "download: true" in message


class _Payload:
    """Pickles to a call that creates ``marker``: what a poisoned batch would run under ``pickle.load``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_a_poisoned_batch_raises_and_runs_nothing(tmp_path):
    write_fake_cifar(tmp_path)
    marker = tmp_path / "code_ran"
    entry = {"data": np.zeros((6, 3072), dtype=np.uint8), "labels": [0] * 6, "payload": _Payload(marker)}
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "wb") as f:
        pickle.dump(entry, f)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load pathlib.*Path"):
        CIFAR10(data_dir=str(tmp_path)).load("train")
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"data": np.zeros((6, 100), dtype=np.uint8), "labels": [0] * 6}, "uint8 rows of 3 \\* 32 \\* 32"),
        ({"data": np.zeros((6, 3072), dtype=np.uint8), "labels": [0] * 5}, "a list of 6 'labels'"),
        ([1, 2, 3], "is not a CIFAR batch"),
    ],
)
def test_a_batch_of_the_wrong_form_names_the_file(tmp_path, protocol, entry, message):
    write_fake_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=protocol)
    with pytest.raises(ValueError, match=message):
        CIFAR10(data_dir=str(tmp_path)).load("test")
