"""SVHN from fake MATLAB files (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_robust.data import SVHN, DatasetNotFoundError

savemat = pytest.importorskip("scipy.io").savemat


def test_loads_mat_files_and_maps_label_10_to_0(tmp_path):
    rng = np.random.default_rng(0)
    pixels = {}
    for name, count in (("train_32x32.mat", 9), ("test_32x32.mat", 4)):
        pixels[name] = rng.integers(0, 256, (32, 32, 3, count), dtype=np.uint8)
        labels = np.arange(count).reshape(-1, 1) % 10 + 1  # 1..10, 10 meaning digit 0
        savemat(tmp_path / name, {"X": pixels[name], "y": labels})
    datamodule = SVHN(data_dir=str(tmp_path))
    datamodule.prepare()
    images, labels = datamodule.load("train")
    assert images.shape == (9, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64
    assert labels.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert images[4, 2, 10, 20] == pixels["train_32x32.mat"][10, 20, 2, 4]  # (H, W, C, N) -> (N, C, H, W)
    assert datamodule.load("test")[1].tolist() == [1, 2, 3, 4]
    savemat(tmp_path / "test_32x32.mat", {"X": pixels["test_32x32.mat"], "y": np.full((4, 1), 10)})
    assert datamodule.load("test")[1].tolist() == [0, 0, 0, 0]


def test_metadata_and_missing_message(tmp_path):
    assert (SVHN.num_classes, SVHN.in_channels, SVHN.input_size, SVHN.hflip) == (10, 3, 32, False)
    with pytest.raises(DatasetNotFoundError, match=r"train_32x32\.mat and test_32x32\.mat.*download: true"):
        SVHN(data_dir=str(tmp_path)).prepare()
