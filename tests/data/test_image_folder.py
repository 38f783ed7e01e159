"""ImageFolder on a few tiny PNGs and a JPEG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_robust.data import DatasetNotFoundError, ImageDataModule, ImageFolder

COLOURS = {"cat": (255, 0, 0), "dog": (0, 0, 255)}


def write_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), colour, dtype=np.uint8)).save(path)


@pytest.fixture
def folder(tmp_path) -> Path:
    """train/: 3 cats and 2 dogs of assorted sizes; test/: 1 cat and 1 dog; plus a stray text file."""
    for i, size in enumerate([(10, 12), (20, 20), (7, 5)]):
        write_image(tmp_path / "train" / "cat" / f"{i}.png", COLOURS["cat"], size)
    for i in range(2):
        write_image(tmp_path / "train" / "dog" / f"{i}.png", COLOURS["dog"], (16, 9))
    write_image(tmp_path / "test" / "cat" / "a.jpg", COLOURS["cat"], (30, 30))
    write_image(tmp_path / "test" / "dog" / "b.PNG", COLOURS["dog"], (8, 8))
    (tmp_path / "train" / "dog" / "notes.txt").write_text("not an image")
    return tmp_path


def test_classes_are_known_before_loading(folder):
    datamodule = ImageDataModule(ImageFolder(data_dir=str(folder), image_size=8))
    assert datamodule.source.classes == ["cat", "dog"]
    assert (datamodule.num_classes, datamodule.in_channels, datamodule.input_size) == (2, 3, 8)
    assert datamodule.train_data is None


def test_images_are_resized_rgb_with_folder_labels(folder):
    source = ImageFolder(data_dir=str(folder), image_size=8)
    source.prepare()
    images, labels = source.load("train")
    assert images.shape == (5, 3, 8, 8) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1]
    assert torch.equal(images[0, :, 4, 4], torch.tensor(COLOURS["cat"], dtype=torch.uint8))
    assert torch.equal(images[4, :, 0, 0], torch.tensor(COLOURS["dog"], dtype=torch.uint8))
    test_images, test_labels = source.load("test")
    assert test_labels.tolist() == [0, 1]
    assert (test_images[0, 0].int() - 255).abs().max() <= 8  # JPEG red, within compression error
    datamodule = ImageDataModule(source, val_size=0)
    datamodule.setup("fit")
    assert len(datamodule.train_data[1]) == 5


def test_test_classes_must_be_train_classes(folder):
    write_image(folder / "test" / "bird" / "c.png", (0, 255, 0), (4, 4))
    with pytest.raises(ValueError, match="bird"):
        ImageFolder(data_dir=str(folder)).load("test")


def test_missing_folder_fails_when_built(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"train/<class>/<image>"):
        ImageFolder(data_dir=str(tmp_path / "nothing"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"image_size": 0}, "image_size"), ({"std": (0.2, 0.0, 0.2)}, "std"), ({"mean": (0.5,)}, "mean")],
)
def test_bad_arguments(folder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageFolder(data_dir=str(folder), **kwargs)
