"""`ImageSource`: where a dataset's uint8 images come from, and what the model needs to know about them.

A source is a plain object (no Lightning): its metadata (``num_classes``, ``in_channels``, ``input_size``,
the per-channel ``mean`` and ``std`` of the training images, whether augmentation may mirror them) is known
without loading anything, and :meth:`ImageSource.load` returns a whole split as uint8 images ``(N, C, H, W)``
and int64 labels ``(N,)``. :class:`~lit_robust.data.ImageDataModule` turns a source into loaders.
Sources that read files derive from :class:`FileSource`, which finds them (or downloads them) and says how
to get them when they are missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from lit_robust.data.dataset import Batch

Split = Literal["train", "test"]
SPLITS: tuple[Split, ...] = ("train", "test")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's raw files are missing; the message says where they were looked for and how to get them."""


class ImageSource:
    """The images of a dataset: metadata as attributes, splits from :meth:`load`.

    Subclasses set the metadata (as class attributes, or in ``__init__`` when it depends on the arguments)
    and implement :meth:`load`.
    """

    num_classes: int
    in_channels: int
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    hflip: bool = True
    """Whether augmentation mirrors images (off for digits, whose mirror images are not digits)."""

    def prepare(self) -> None:
        """Makes the raw data available (finds or downloads it); called once per node before :meth:`load`."""

    def load(self, split: Split) -> Batch:
        """Returns the raw ``split`` as uint8 images ``(N, C, H, W)`` and int64 labels ``(N,)``."""
        raise NotImplementedError


class FileSource(ImageSource):
    """A source read from files under ``data_dir``: finds them, downloads them where it can, and raises a
    :class:`DatasetNotFoundError` saying how to get them when they are missing.

    Subclasses implement :meth:`find_raw_dir`, :meth:`missing_data_message`, :meth:`load` and, when they can,
    :meth:`download`.

    Args:
        data_dir: Directory holding (or receiving) the raw files.
        download: Download the raw files when they are not found.
    """

    def __init__(self, data_dir: str = "data", download: bool = False) -> None:
        self.data_dir = data_dir
        self.download_missing = download

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

    def prepare(self) -> None:
        """Finds the raw files, downloading them first when they are missing and ``download`` is set.

        Raises:
            DatasetNotFoundError: if the files are still missing; its message says how to get them.
        """
        if self.download_missing and self.find_raw_dir() is None:
            self.download()
        self.raw_dir()
