"""MNIST and Fashion-MNIST from fake IDX files; where they are looked for and what a missing one says."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lit_robust.data import MNIST, DatasetNotFoundError, FashionMNIST, ImageDataModule
from lit_robust.data.idx import write_idx
from lit_robust.data.mnist import IDX_FILES

SIZES = {"train": 40, "test": 12}


def write_fake_idx_dataset(directory: Path, compress: bool = True, seed: int = 0) -> dict[str, tuple]:
    """Writes the four MNIST files with random content into ``directory``; returns what they hold."""
    directory.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    content = {}
    for split, count in SIZES.items():
        images = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=generator)
        labels = torch.randint(0, 10, (count,), dtype=torch.uint8, generator=generator)
        for name, array in zip(IDX_FILES[split], (images, labels), strict=True):
            write_idx(directory / (f"{name}.gz" if compress else name), array)
        content[split] = (images, labels)
    return content


@pytest.fixture
def no_system_copy(monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())


def test_metadata_is_known_without_data():
    for cls in (MNIST, FashionMNIST):
        assert (cls.num_classes, cls.in_channels, cls.input_size) == (10, 1, 28)
        assert len(cls.mean) == len(cls.std) == 1
    assert MNIST(data_dir="/nonexistent").input_size == 28


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize(("cls", "folder"), [(MNIST, "MNIST"), (FashionMNIST, "FashionMNIST")])
def test_loads_the_files_in_torchvision_layout(tmp_path, cls, folder, compress):
    content = write_fake_idx_dataset(tmp_path / folder / "raw", compress=compress)
    source = cls(data_dir=str(tmp_path))
    source.prepare()
    for split in ("train", "test"):
        images, labels = source.load(split)
        assert images.shape == (SIZES[split], 1, 28, 28) and images.dtype == torch.uint8
        assert labels.dtype == torch.int64
        assert torch.equal(images[:, 0], content[split][0])
        assert torch.equal(labels, content[split][1].long())
    datamodule = ImageDataModule(source, val_size=0)
    datamodule.setup("fit")
    assert torch.equal(datamodule.train_data[0][:, 0], content["train"][0])


def test_fashion_mnist_falls_back_to_the_system_copy(tmp_path, monkeypatch):
    content = write_fake_idx_dataset(tmp_path / "system", seed=1)
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(tmp_path / "system"),))
    datamodule = FashionMNIST(data_dir=str(tmp_path / "empty"))
    assert datamodule.raw_dir() == tmp_path / "system"
    assert torch.equal(datamodule.load("test")[0][:, 0], content["test"][0])
    write_fake_idx_dataset(tmp_path / "empty" / "FashionMNIST" / "raw", seed=2)
    assert datamodule.raw_dir() == tmp_path / "empty" / "FashionMNIST" / "raw"


def test_missing_mnist_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        MNIST(data_dir=str(tmp_path)).prepare()
    message = str(error.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "download: true" in message
    assert f"python tools/make_mnist_sample.py --data-dir {tmp_path}" in message
    assert "sample: true" in message
    assert isinstance(error.value, FileNotFoundError)


def test_missing_mnist_mentions_an_existing_sample(tmp_path):
    write_fake_idx_dataset(tmp_path / "MNIST-sample")
    with pytest.raises(DatasetNotFoundError, match="A sample already exists"):
        MNIST(data_dir=str(tmp_path)).prepare()


def test_missing_fashion_mnist_names_the_apt_package(tmp_path, no_system_copy):
    with pytest.raises(DatasetNotFoundError) as error:
        FashionMNIST(data_dir=str(tmp_path)).prepare()
    message = str(error.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "download: true" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message


def test_incomplete_directory_is_missing(tmp_path, no_system_copy):
    raw = tmp_path / "FashionMNIST" / "raw"
    write_fake_idx_dataset(raw)
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError):
        ImageDataModule(FashionMNIST(data_dir=str(tmp_path))).setup("fit")


def test_sample_is_read_only_when_asked_for(tmp_path):
    content = write_fake_idx_dataset(tmp_path / "MNIST-sample")
    datamodule = ImageDataModule(MNIST(data_dir=str(tmp_path), sample=True))
    datamodule.prepare_data()
    datamodule.setup("test")
    assert torch.equal(datamodule.test_data[0][:, 0], content["test"][0])
    assert MNIST(data_dir=str(tmp_path)).find_raw_dir() is None


def test_missing_sample_says_how_to_make_it(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"MNIST sample not found.*make_mnist_sample\.py"):
        MNIST(data_dir=str(tmp_path), sample=True).prepare()


def test_sample_and_download_conflict():
    with pytest.raises(ValueError, match="sample and download"):
        MNIST(sample=True, download=True)


def test_download_runs_only_when_files_are_missing(tmp_path, no_system_copy):
    datamodule = FashionMNIST(data_dir=str(tmp_path), download=True)
    calls = []

    def fake_download() -> None:
        calls.append(True)
        write_fake_idx_dataset(tmp_path / "FashionMNIST" / "raw")

    datamodule.download = fake_download
    datamodule.prepare()
    datamodule.prepare()
    assert calls == [True]


def test_inconsistent_files_are_reported(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_fake_idx_dataset(raw)
    write_idx(raw / "train-labels-idx1-ubyte.gz", torch.zeros(3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="inconsistent"):
        MNIST(data_dir=str(tmp_path)).load("train")
