"""CIFAR-10 from the python pickle batches (``cifar-10-batches-py/``), in colour or grayscale."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import Tensor

from lit_robust.data.dataset import Batch
from lit_robust.data.source import FileSource, Split

CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_BATCHES: dict[Split, tuple[str, ...]] = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
CIFAR_NAMES = tuple(name for names in CIFAR_BATCHES.values() for name in names)
LUMA_WEIGHTS_PER_MILLE = (299, 587, 114)
"""ITU-R BT.601 luma weights of R, G and B (0.299, 0.587, 0.114), in thousandths."""


def rgb_to_luma(images: Tensor) -> Tensor:
    """Converts uint8 RGB images ``(N, 3, H, W)`` to uint8 grayscale ``(N, 1, H, W)`` (ITU-R 601 luma).

    Integer arithmetic, so the luma is rounded exactly (halves up) rather than at float precision.
    """
    weights = torch.tensor(LUMA_WEIGHTS_PER_MILLE, dtype=torch.int32).view(1, 3, 1, 1)
    return ((images.int() * weights).sum(dim=1, keepdim=True) + 500).div_(1000, rounding_mode="floor").byte()


NUMPY_ARRAY_GLOBALS = frozenset(
    (module, name)
    for package in ("numpy.core", "numpy._core")
    for module, name in ((f"{package}.multiarray", "_reconstruct"), (f"{package}.numeric", "_frombuffer"))
) | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
"""The only globals a CIFAR batch refers to: how numpy pickles an array (numpy 1 and 2 module names) and
how protocol 2 pickles bytes under Python 3 (``_codecs.encode``)."""


class ArrayUnpickler(pickle.Unpickler):
    """Unpickles dictionaries, lists, strings, numbers and numpy arrays; refuses every other global, so a
    poisoned file cannot run code (``pickle.load`` would call whatever the file names)."""

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in NUMPY_ARRAY_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: CIFAR batches hold only arrays, lists, strings, numbers."
            )
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> Batch:
    """Reads one CIFAR pickle batch into uint8 images ``(N, 3, 32, 32)`` and int64 labels.

    Raises:
        pickle.UnpicklingError: if the file names anything but numpy arrays (it runs no code).
        ValueError: if it is not a CIFAR batch (no ``data`` rows of 3072 bytes with as many ``labels``).
    """
    with open(path, "rb") as f:
        entry = ArrayUnpickler(f, encoding="latin1").load()
    data = entry.get("data") if isinstance(entry, dict) else None
    labels = entry.get("labels") if isinstance(entry, dict) else None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path} is not a CIFAR batch: it needs 'data', uint8 rows of 3 * 32 * 32 bytes.")
    if not isinstance(labels, list) or len(labels) != len(data):
        raise ValueError(f"{path} is not a CIFAR batch: it needs a list of {len(data)} 'labels'.")
    images = torch.from_numpy(np.ascontiguousarray(data).reshape(-1, 3, 32, 32))
    return images, torch.as_tensor(labels, dtype=torch.long)


class CIFAR10(FileSource):
    """CIFAR-10: 32x32 colour images of 10 classes (50,000 training, 10,000 test images).

    Read from ``<data_dir>/cifar-10-batches-py/`` (torchvision's layout). With ``grayscale=True`` the images
    are converted to one channel with the ITU-R 601 luma weights, the "CIFAR-10 grayscale" of the Pixel
    Redrawn paper; its mean (0.4809) is the luma of the RGB means and its std (0.240) an estimate: the
    channels are strongly correlated, so it lies just below the luma of the RGB stds (0.247). Augmentation
    crops with 4 pixels of padding and mirrors.

    Args:
        data_dir: Directory holding ``cifar-10-batches-py/``.
        download: Download CIFAR-10 with torchvision into ``data_dir`` when it is not found.
        grayscale: Convert the images to one channel (ITU-R 601 luma).
    """

    num_classes = 10
    in_channels = 3
    input_size = 32
    mean = (0.4914, 0.4822, 0.4465)
    std = (0.2470, 0.2435, 0.2616)

    def __init__(self, data_dir: str = "data", download: bool = False, grayscale: bool = False) -> None:
        super().__init__(data_dir, download)
        self.grayscale = grayscale
        if grayscale:
            self.in_channels, self.mean, self.std = 1, (0.4809,), (0.240,)

    def find_raw_dir(self) -> Path | None:
        directory = Path(self.data_dir) / CIFAR_FOLDER
        return directory if all((directory / name).is_file() for name in CIFAR_NAMES) else None

    def missing_data_message(self) -> str:
        directory = Path(self.data_dir) / CIFAR_FOLDER
        return (
            f"CIFAR-10 not found: looked in {directory} for {', '.join(CIFAR_NAMES)}. Set download: true"
            " (--data.source.download true) to download it with torchvision, or extract"
            f" cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) into {self.data_dir}."
        )

    def download(self) -> None:
        torchvision.datasets.CIFAR10(self.data_dir, train=True, download=True)

    def load(self, split: Split) -> Batch:
        directory = self.raw_dir()
        batches = [read_cifar_batch(directory / name) for name in CIFAR_BATCHES[split]]
        if self.grayscale:  # batch by batch, to bound the int32 copy's memory
            batches = [(rgb_to_luma(images), labels) for images, labels in batches]
        return torch.cat([images for images, _ in batches]), torch.cat([labels for _, labels in batches])
