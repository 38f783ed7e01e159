"""Pieces shared by the tools/reproduce_*.py scripts: fixed data subsets, a quiet, timed fit, table cells."""

from __future__ import annotations

import statistics
import time
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.data import MNIST, FashionMNIST, InMemoryImageDataModule


def mean_std(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
    """``mean ± std`` of ``values`` times ``scale`` (sample std; 0 for a single value), for result tables."""
    mean = statistics.fmean(values) * scale
    std = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def load_fashion_mnist_subset(
    data_dir: str, train_size: int, test_size: int
) -> tuple[TensorDataset, Tensor, Tensor, list[float], list[float]]:
    """A fixed training subset and the first ``test_size`` test images, as floats in [0, 1], plus the
    dataset's mean and std."""
    return load_subset(FashionMNIST(data_dir=data_dir, val_size=0.0, seed=0), train_size, test_size)


def load_mnist_sample_subset(
    data_dir: str, train_size: int, test_size: int
) -> tuple[TensorDataset, Tensor, Tensor, list[float], list[float]]:
    """:func:`load_subset` of the offline MNIST sample (``tools/make_mnist_sample.py``: 4,000 training and
    1,000 test digits)."""
    return load_subset(MNIST(data_dir=data_dir, sample=True, val_size=0.0, seed=0), train_size, test_size)


def load_subset(
    data: InMemoryImageDataModule, train_size: int, test_size: int
) -> tuple[TensorDataset, Tensor, Tensor, list[float], list[float]]:
    """A fixed training subset of ``data`` (seeded permutation, seed 0) and its first ``test_size`` test
    images, as floats in [0, 1], plus the dataset's mean and std."""
    data.setup("fit")
    data.setup("test")
    images, labels = data.train_data
    keep = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))[:train_size]
    train = TensorDataset(images[keep].float() / 255, labels[keep])
    x_test, y_test = data.test_data
    return train, x_test[:test_size].float() / 255, y_test[:test_size], list(data.mean), list(data.std)


def timed_fit(
    model: L.LightningModule, train_set: TensorDataset, batch_size: int, epochs: int, seed: int
) -> tuple[float, float]:
    """Trains ``model`` on the CPU without logging; returns the wall time and this process's CPU time in
    seconds (on a shared machine the CPU time follows the other users' load much less)."""
    loader = DataLoader(
        train_set, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    return _timed(quiet_trainer(epochs), model, train_dataloaders=loader)


def timed_datamodule_fit(
    model: L.LightningModule, datamodule: L.LightningDataModule, epochs: int, **trainer_args: Any
) -> tuple[float, float]:
    """:func:`timed_fit` on a datamodule, with further ``Trainer`` arguments."""
    return _timed(quiet_trainer(epochs, **trainer_args), model, datamodule=datamodule)


def quiet_trainer(epochs: int, **trainer_args: Any) -> L.Trainer:
    """A CPU ``Trainer`` without logger, checkpoints, progress bar or model summary."""
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **trainer_args,
    )


def _timed(trainer: L.Trainer, model: L.LightningModule, **fit_args: Any) -> tuple[float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    trainer.fit(model, **fit_args)
    return time.perf_counter() - start, time.process_time() - start_cpu
