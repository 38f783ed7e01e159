"""Benchmark of `ConstantPerturbations`: generation time and memory, cache reload, training-loader speed.

Generates K copies of the Fashion-MNIST training split (seconds, growth of the process's peak resident
memory, size of the extended set), saves and reloads them through the cache, then times one epoch of the
wrapper's training loader, which composes each batch from the clean images and the perturbation codes,
against a plain in-memory ``TensorImageDataset`` loader over uint8 images of the same count. Prints a
markdown table.

    python tools/bench_constant_perturbations.py --data-dir data --copies 10
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from lit_robust.data import (
    ConstantPerturbations,
    FashionMNIST,
    ImageDataModule,
    TensorImageDataset,
    keep_batch,
)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def images_per_second(loaders: dict[str, DataLoader], repeats: int) -> dict[str, float]:
    """Best of ``repeats`` full passes over each loader, in turns and in alternating order (so load from other
    processes and cache warmth hit all alike): images per second."""
    best = dict.fromkeys(loaders, float("inf"))
    for repeat in range(repeats):
        for name in list(loaders)[:: 1 if repeat % 2 == 0 else -1]:
            seconds, count = timed(lambda loader=loaders[name]: sum(len(labels) for _, labels in loader))
            best[name] = min(best[name], seconds)
    return {name: count / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--eps", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="loader passes timed (the best is kept)")
    args = parser.parse_args()

    def fashion_mnist(*steps: ConstantPerturbations) -> ImageDataModule:
        return ImageDataModule(
            FashionMNIST(data_dir=args.data_dir), batch_size=args.batch_size, val_size=5000, steps=steps
        )

    base = fashion_mnist()
    load_seconds, _ = timed(lambda: base.setup("fit"))
    clean_images = base.train_data[0]
    rss_before = peak_rss_mb()
    rows = [("base setup (load Fashion-MNIST)", f"{load_seconds:.2f} s")]

    data = fashion_mnist(ConstantPerturbations(copies=args.copies, eps=args.eps, progress=False))
    generate_seconds, _ = timed(lambda: data.setup("fit"))
    extended = data.train_data
    rows += [
        (f"generate K={args.copies} (no cache)", f"{generate_seconds:.2f} s"),
        ("peak RSS growth during generation", f"{peak_rss_mb() - rss_before:.0f} MB"),
        ("extended training set", f"{len(extended)} images, {extended.nbytes / 2**20:.0f} MB"),
        ("the same count of uint8 images", f"{len(extended) * clean_images[0].nbytes / 2**20:.0f} MB"),
    ]
    with tempfile.TemporaryDirectory() as cache_dir:
        for action in ("generate and save to the cache", "setup from the cache (load + checksum)"):
            cached = fashion_mnist(
                ConstantPerturbations(copies=args.copies, eps=args.eps, cache_dir=cache_dir, progress=False)
            )
            seconds, _ = timed(lambda cached=cached: cached.setup("fit"))
            assert torch.equal(cached.train_data.codes, extended.codes)
            rows.append((action, f"{seconds:.2f} s"))

    plain = DataLoader(
        TensorImageDataset(
            clean_images.repeat(args.copies + 1, 1, 1, 1), extended.labels.repeat(args.copies + 1)
        ),
        batch_size=args.batch_size,
        shuffle=True,
        collate_fn=keep_batch,
    )
    speeds = images_per_second(
        {"ConstantPerturbations": data.train_dataloader(), "plain": plain}, args.repeats
    )
    rows += [
        ("training loader, ConstantPerturbations", f"{speeds['ConstantPerturbations']:,.0f} images/s"),
        ("training loader, plain TensorImageDataset", f"{speeds['plain']:,.0f} images/s"),
    ]
    print(f"Fashion-MNIST training split: {len(clean_images)} images, K={args.copies}, eps={args.eps}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
