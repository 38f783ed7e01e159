"""LightningDataModules: uint8 images in memory, floats in [0, 1] on the device."""

from lit_robust.data.augment import crop_and_flip, random_crop, random_hflip
from lit_robust.data.base import DatasetNotFoundError, InMemoryImageDataModule
from lit_robust.data.cifar import CIFAR10
from lit_robust.data.constant_perturbations import ConstantPerturbations
from lit_robust.data.dataset import TensorImageDataset, keep_batch
from lit_robust.data.folder import ImageFolderDataModule
from lit_robust.data.mnist import MNIST, FashionMNIST
from lit_robust.data.pixel_redrawn import PixelRedrawn
from lit_robust.data.svhn import SVHN
from lit_robust.data.synthetic import SyntheticImages
from lit_robust.data.wrapper import DataModuleWrapper

__all__ = [
    "CIFAR10",
    "MNIST",
    "SVHN",
    "ConstantPerturbations",
    "DataModuleWrapper",
    "DatasetNotFoundError",
    "FashionMNIST",
    "ImageFolderDataModule",
    "InMemoryImageDataModule",
    "PixelRedrawn",
    "SyntheticImages",
    "TensorImageDataset",
    "crop_and_flip",
    "keep_batch",
    "random_crop",
    "random_hflip",
]
