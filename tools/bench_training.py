"""Training throughput of ``lit-robust fit`` against a plain PyTorch loop, side by side in one run.

Standard training of the quick-start model (PRBasicCNN, Adam, label smoothing 0.1, batch 128) on
Fashion-MNIST, on the CPU. Both paths time the same number of batches after the same warm-up; the runs
alternate and the median of ``--repeats`` is reported. Target: Lightning at least 0.9x the plain loop.

    .venv/bin/python tools/bench_training.py [--batches 150] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from lit_robust.callbacks import TrainingThroughput
from lit_robust.cli import run_cli
from lit_robust.data import FashionMNIST, ImageDataModule
from lit_robust.models import Normalize, PRBasicCNN
from lit_robust.pixels import to_unit_range

QUICKSTART = str(Path(__file__).parents[1] / "configs" / "quickstart.yaml")
WARMUP = 5
BATCH_SIZE = 128


def plain_loop(images: torch.Tensor, labels: torch.Tensor, mean, std, batches: int) -> float:
    """Images per second of a hand-written loop over in-memory uint8 tensors."""
    model = torch.nn.Sequential(
        Normalize(mean, std), PRBasicCNN(in_channels=1, num_classes=10, input_size=28)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(labels))
    start = 0.0
    for step in range(WARMUP + batches):
        if step == WARMUP:
            start = time.perf_counter()
        index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
        x = to_unit_range(images[index])
        loss = F.cross_entropy(model(x), labels[index], label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return batches * BATCH_SIZE / (time.perf_counter() - start)


def lightning_fit(batches: int, root: str) -> float:
    """Images per second of ``lit-robust fit --config configs/quickstart.yaml`` (one epoch, no validation)."""
    cli = run_cli(
        [
            "fit",
            "--config",
            QUICKSTART,
            "--trainer.max_epochs=1",
            f"--trainer.limit_train_batches={WARMUP + batches}",
            "--trainer.limit_val_batches=0",
            "--trainer.logger=false",
            "--trainer.enable_checkpointing=false",
            "--trainer.callbacks=TrainingThroughput",
            f"--trainer.callbacks.warmup_batches={WARMUP}",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={root}",
        ]
    )
    timer = next(c for c in cli.trainer.callbacks if isinstance(c, TrainingThroughput))
    assert timer.images_per_second is not None
    return timer.images_per_second


def run(batches: int, repeats: int, root: str) -> None:
    data = ImageDataModule(FashionMNIST(data_dir="data"), batch_size=BATCH_SIZE, val_size=5000)
    data.prepare_data()
    data.setup("fit")
    images, labels = data.train_data
    plain, lightning = [], []
    for _ in range(repeats):
        plain.append(plain_loop(images, labels, data.mean, data.std, batches))
        lightning.append(lightning_fit(batches, root))
    p, q = statistics.median(plain), statistics.median(lightning)
    print(f"\nstandard training, PRBasicCNN, Fashion-MNIST, batch {BATCH_SIZE}, {batches} timed batches,")
    print(f"CPU threads {torch.get_num_threads()}, median of {repeats} alternating runs")
    print(f"{'path':<28}{'images/s (median)':>20}{'runs':>40}")
    print(f"{'plain PyTorch loop':<28}{p:>20.0f}{[round(v) for v in plain]!s:>40}")
    print(f"{'lit-robust fit (Lightning)':<28}{q:>20.0f}{[round(v) for v in lightning]!s:>40}")
    print(f"ratio Lightning / plain: {q / p:.3f}  (target >= 0.9)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=150, help="timed batches per run")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each path")
    parser.add_argument("--root", default="lightning_logs/bench_training", help="Trainer default_root_dir")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    run(args.batches, args.repeats, args.root)
