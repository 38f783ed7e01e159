"""SVHN (cropped digits) from the MATLAB files ``train_32x32.mat`` and ``test_32x32.mat``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchvision

from lit_robust.data.dataset import Batch
from lit_robust.data.source import FileSource, Split

SVHN_FILES: dict[Split, str] = {"train": "train_32x32.mat", "test": "test_32x32.mat"}


def read_svhn_mat(path: Path) -> Batch:
    """Reads an SVHN ``.mat`` file into uint8 images ``(N, 3, 32, 32)`` and int64 labels (10 means 0)."""
    try:
        from scipy.io import loadmat
    except ImportError as error:
        raise ImportError("Reading SVHN needs scipy: pip install scipy.") from error
    mat = loadmat(path)
    images = np.ascontiguousarray(mat["X"].transpose(3, 2, 0, 1), dtype=np.uint8)  # (H, W, C, N) -> NCHW
    labels = mat["y"].reshape(-1).astype(np.int64) % 10
    return torch.from_numpy(images), torch.from_numpy(labels)


class SVHN(FileSource):
    """SVHN: 32x32 colour crops of house-number digits (73,257 training, 26,032 test images).

    Read from ``<data_dir>/train_32x32.mat`` and ``<data_dir>/test_32x32.mat`` (torchvision's layout) with
    scipy; the ``extra`` split is not used. Label 10 of the files is digit 0. Augmentation (off by default)
    crops with 4 pixels of padding and never mirrors digits.

    Args:
        data_dir: Directory holding ``train_32x32.mat`` and ``test_32x32.mat``.
        download: Download them with torchvision into ``data_dir`` when they are not found.
    """

    num_classes = 10
    in_channels = 3
    input_size = 32
    mean = (0.4377, 0.4438, 0.4728)
    std = (0.1980, 0.2010, 0.1970)
    hflip = False

    def find_raw_dir(self) -> Path | None:
        directory = Path(self.data_dir)
        return directory if all((directory / name).is_file() for name in SVHN_FILES.values()) else None

    def missing_data_message(self) -> str:
        return (
            f"SVHN not found: looked in {self.data_dir} for {' and '.join(SVHN_FILES.values())}."
            " Set download: true (--data.source.download true) to download them with torchvision, or download"
            f" them from http://ufldl.stanford.edu/housenumbers/ into {self.data_dir}."
        )

    def download(self) -> None:
        for split in SVHN_FILES:
            torchvision.datasets.SVHN(self.data_dir, split=split, download=True)

    def load(self, split: Split) -> Batch:
        return read_svhn_mat(self.raw_dir() / SVHN_FILES[split])
