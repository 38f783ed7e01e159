"""Benchmark of Pixel Redrawn: PR model training time, redrawing the Fashion-MNIST training set, throughput.

Times (CPU seconds of this process, and wall seconds) the training of the PR models of the paper's settings,
the precomputation of the redrawn Fashion-MNIST training set by :class:`lit_robust.data.PixelRedrawn`
(60,000 images, with a cache save and reload), and the redraw throughput of :class:`PixelRedrawer` on
batches of float images (best of ``--repeats``), in images per second. Prints a markdown table.

    OMP_NUM_THREADS=1 python tools/bench_pixel_redrawn.py --data-dir data
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import torch

from lit_robust.data import FashionMNIST, ImageDataModule, PixelRedrawn
from lit_robust.models import PixelRedrawer
from lit_robust.pixels import to_unit_range

PR_MODELS = {
    "1 model, k=3, 5,000 steps (MNIST, Fashion-MNIST)": {"k": 3},
    "1 model, k=3, 10,000 steps (CIFAR-10)": {"k": 3, "steps": 10000},
    "1 model, k=10, 5,000 steps": {"k": 10},
    "20 models, k=3, 300-3,000 steps": {"k": 3, "models": 20},
    "50 models, k=3, 300-5,000 steps (CIFAR-10 grey)": {"k": 3, "models": 50, "step_range": (300, 5000)},
}


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """CPU seconds, wall seconds and the result of ``fn()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def throughput(redrawer: PixelRedrawer, images: torch.Tensor, batch_size: int, repeats: int) -> float:
    """Best of ``repeats`` CPU-timed passes over ``images`` in batches: images per CPU second."""
    best = float("inf")
    for _ in range(repeats):
        cpu, _, _ = timed(lambda: [redrawer(batch) for batch in images.split(batch_size)])
        best = min(best, cpu)
    return len(images) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    redrawers = {}
    for name, kwargs in PR_MODELS.items():
        cpu, wall, redrawers[name] = timed(lambda kwargs=kwargs: PixelRedrawer(**kwargs))
        rows.append((f"train PR models: {name}", f"{cpu:.2f} s CPU ({wall:.2f} s wall)"))

    train_images = FashionMNIST(data_dir=args.data_dir).load("train")[0]
    single = redrawers["1 model, k=3, 5,000 steps (MNIST, Fashion-MNIST)"]
    with tempfile.TemporaryDirectory() as cache_dir:
        for action in (
            "redraw the 60,000 training images and save",
            "setup from the cache (load + checksum)",
        ):
            step = PixelRedrawn(single, cache_dir=cache_dir, progress=False)
            data = ImageDataModule(FashionMNIST(data_dir=args.data_dir), val_size=0, steps=[step])
            cpu, wall, _ = timed(lambda data=data: data.setup("fit"))
            rows.append((f"PixelRedrawn: {action}", f"{cpu:.2f} s CPU ({wall:.2f} s wall)"))

    images = to_unit_range(train_images[:8192])
    for name in ("1 model, k=3, 5,000 steps (MNIST, Fashion-MNIST)", "1 model, k=10, 5,000 steps"):
        for batch_size in (128, 4096):
            speed = throughput(redrawers[name], images, batch_size, args.repeats)
            rows.append(
                (
                    f"redraw throughput, {name.split(',')[1].strip()}, batch {batch_size}",
                    f"{speed:,.0f} img/s",
                )
            )
    multiple = redrawers["20 models, k=3, 300-3,000 steps"]
    for choice in ("pixel", "image"):
        multiple.choice = choice
        speed = throughput(multiple, images, 4096, args.repeats)
        rows.append((f"redraw throughput, 20 models chosen per {choice}, batch 4096", f"{speed:,.0f} img/s"))

    print(f"Fashion-MNIST 28x28, {torch.get_num_threads()} thread(s), CPU\n")
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
