"""Measures training-loader throughput on Fashion-MNIST: lit_robust's loader against a plain TensorDataset.

Both iterate the same uint8 training tensors (all 60,000 images, shuffled, ``--batch-size``) in the main
process and convert each batch to floats in [0, 1]. lit_robust's loader fetches a batch with one tensor
index (``__getitems__``) and converts in ``on_after_batch_transfer``; the baseline is
``DataLoader(TensorDataset(images, labels))``, which indexes item by item and stacks with the default
collate. A third row adds lit_robust's crop-and-flip augmentation (on the CPU here; on the GPU in training).
The rows alternate epoch by epoch, so that other load on the machine slows them alike, and each reports
its median epoch.

    python tools/bench_data.py [--data-dir data] [--batch-size 128] [--epochs 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.data import FashionMNIST, ImageDataModule
from lit_robust.pixels import to_unit_range

Batch = tuple[Tensor, Tensor]


def images_per_second(loader: Iterable[Batch], convert: Callable[[Batch], Batch]) -> float:
    """Images per second of one full pass that iterates ``loader`` and converts each batch."""
    count = 0
    start = time.perf_counter()
    for batch in loader:
        images, _ = convert(batch)
        count += images.shape[0]
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", default="data", help="searched before /usr/share/datasets/fashion-mnist"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5, help="passes per loader; the median is reported")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)  # 1 is steadier on a machine busy with other work

    datamodule = ImageDataModule(FashionMNIST(data_dir=args.data_dir), batch_size=args.batch_size, val_size=0)
    datamodule.prepare_data()
    datamodule.setup("fit")
    images, labels = datamodule.train_data
    baseline = DataLoader(TensorDataset(images, labels), batch_size=args.batch_size, shuffle=True)

    def to_float(batch: Batch) -> Batch:
        return to_unit_range(batch[0]), batch[1]

    def transfer(batch: Batch) -> Batch:
        return datamodule.on_after_batch_transfer(batch, 0)

    def transfer_and_augment(batch: Batch) -> Batch:
        converted, target = transfer(batch)
        return datamodule.augment_batch(converted), target

    rows = [
        ("TensorDataset + default collate", baseline, to_float),
        ("lit_robust loader (__getitems__)", datamodule.train_dataloader(), transfer),
        ("lit_robust loader + crop/flip", datamodule.train_dataloader(), transfer_and_augment),
    ]
    print(
        f"Fashion-MNIST train: {len(labels)} images {tuple(images.shape[1:])}, batch {args.batch_size},"
        f" median of {args.epochs} alternating epochs, {torch.get_num_threads()} torch threads"
    )
    rates: dict[str, list[float]] = {name: [] for name, _, _ in rows}
    for _ in range(args.epochs):  # alternate, so that a busy machine slows every row alike
        for name, loader, convert in rows:
            rates[name].append(images_per_second(loader, convert))
    reference = statistics.median(rates[rows[0][0]])
    for name, runs in rates.items():
        rate = statistics.median(runs)
        spread = f"(min {min(runs):,.0f}, max {max(runs):,.0f})"
        print(f"  {name:<34} {rate:>12,.0f} images/s {rate / reference:6.1f}x   {spread}")


if __name__ == "__main__":
    main()
