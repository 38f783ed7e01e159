"""Image data: sources of uint8 images, precomputing steps, and the one datamodule that serves them.

A source (``MNIST``, ``CIFAR10``, ``SyntheticImages``, ...) yields whole splits as uint8 tensors;
``ImageDataModule(source, ..., steps=[...])`` holds them in memory, runs the precomputing steps
(``ConstantPerturbations``, ``PixelRedrawn``) once, and serves batches of floats in [0, 1] on the device.
"""

from lit_robust.data.augment import crop_and_flip, random_crop, random_hflip
from lit_robust.data.cifar import CIFAR10
from lit_robust.data.constant_perturbations import ConstantPerturbations
from lit_robust.data.datamodule import ImageDataModule
from lit_robust.data.dataset import TensorImageDataset, keep_batch
from lit_robust.data.folder import ImageFolder
from lit_robust.data.mnist import MNIST, FashionMNIST
from lit_robust.data.pixel_redrawn import PixelRedrawn
from lit_robust.data.source import DatasetNotFoundError, FileSource, ImageSource
from lit_robust.data.step import PrecomputeStep
from lit_robust.data.svhn import SVHN
from lit_robust.data.synthetic import SyntheticImages

__all__ = [
    "CIFAR10",
    "MNIST",
    "SVHN",
    "ConstantPerturbations",
    "DatasetNotFoundError",
    "FashionMNIST",
    "FileSource",
    "ImageDataModule",
    "ImageFolder",
    "ImageSource",
    "PixelRedrawn",
    "PrecomputeStep",
    "SyntheticImages",
    "TensorImageDataset",
    "crop_and_flip",
    "keep_batch",
    "random_crop",
    "random_hflip",
]
