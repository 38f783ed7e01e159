"""Any image classification dataset laid out as ``train/`` and ``test/`` folders of class folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from lit_robust.data.dataset import Batch
from lit_robust.data.source import DatasetNotFoundError, FileSource, Split
from lit_robust.validation import check_int

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def class_folders(directory: Path) -> list[str]:
    """Sorted names of the visible sub-folders of ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_image(path: Path, size: int) -> Tensor:
    """Loads an image as uint8 RGB ``(3, size, size)``, resized (bilinear) regardless of its aspect ratio."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))  # JPEGs decode at a reduced scale when much larger than needed
        rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.array(rgb)).permute(2, 0, 1)


class ImageFolder(FileSource):
    """Images in ``<data_dir>/train/<class>/`` and ``<data_dir>/test/<class>/``, e.g. Cats vs Dogs.

    The class names are the sorted folder names of ``train/``, read when the source is built, so
    ``num_classes`` is known before loading; ``test/`` may lack classes but must not add any. At loading
    every image (png, jpg, bmp, gif, webp, tif) is converted to RGB, resized to ``image_size`` squared and
    kept in memory. Augmentation crops with ``image_size // 8`` pixels of padding and mirrors.

    Args:
        data_dir: Directory holding ``train/`` and ``test/``.
        image_size: Side of the square images fed to the model.
        mean: Per-channel mean of the training images, for the model's normalisation (ImageNet's by default).
        std: Per-channel standard deviation of the training images (ImageNet's by default).
    """

    in_channels = 3

    def __init__(
        self,
        data_dir: str,
        image_size: int = 64,
        mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
        std: tuple[float, float, float] = (0.229, 0.224, 0.225),
    ) -> None:
        check_int("image_size", image_size, 1)
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean and std must have 3 values (R, G, B) with std > 0, got {mean} and {std}.")
        super().__init__(data_dir)
        train_dir = Path(data_dir) / "train"
        self.classes = class_folders(train_dir) if train_dir.is_dir() else []
        if not self.classes:
            raise DatasetNotFoundError(self.missing_data_message())
        self.num_classes = len(self.classes)
        self.input_size = image_size
        self.mean = tuple(mean)
        self.std = tuple(std)

    def find_raw_dir(self) -> Path | None:
        directory = Path(self.data_dir)
        return directory if (directory / "train").is_dir() and (directory / "test").is_dir() else None

    def missing_data_message(self) -> str:
        root = self.data_dir
        return (
            f"No image folders found in {root}: expected {root}/train/<class>/<image> and"
            f" {root}/test/<class>/<image>, one folder per class (test/ may not add classes)"
            f" (images: {', '.join(IMAGE_EXTENSIONS)})."
        )

    def load(self, split: Split) -> Batch:
        directory = self.raw_dir() / split
        unknown = set(class_folders(directory)) - set(self.classes)
        if unknown:
            raise ValueError(f"{directory} has classes missing from train/: {', '.join(sorted(unknown))}.")
        files, labels = [], []
        for label, name in enumerate(self.classes):
            class_dir = directory / name
            if class_dir.is_dir():
                paths = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
                files += paths
                labels += [label] * len(paths)
        if not files:
            raise DatasetNotFoundError(f"No images found in {directory}. {self.missing_data_message()}")
        images = torch.empty((len(files), 3, self.input_size, self.input_size), dtype=torch.uint8)
        for i, path in enumerate(files):
            images[i] = load_image(path, self.input_size)
        return images, torch.tensor(labels, dtype=torch.long)
