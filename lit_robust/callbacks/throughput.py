"""`TrainingThroughput`: training images per second, logged once per epoch."""

from __future__ import annotations

import time
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class TrainingThroughput(Callback):
    """Measures training images per second over each epoch and logs ``train/images_per_second``.

    The first ``warmup_batches`` batches of an epoch are left out (allocator warm-up, lazy initialisation),
    so the figure is the steady state, comparable with a hand-written loop timed the same way.

    Args:
        warmup_batches: batches at the start of every epoch that are not timed.
        clock: ``"wall"`` time, or the ``"process"``'s CPU time (all its threads): on a CPU shared with other
            jobs the process time of a single-threaded run measures its own work, whatever the load.
    """

    def __init__(self, warmup_batches: int = 5, clock: Literal["wall", "process"] = "wall") -> None:
        if warmup_batches < 0:
            raise ValueError(f"warmup_batches must be >= 0, got {warmup_batches}.")
        if clock not in ("wall", "process"):
            raise ValueError(f"clock must be 'wall' or 'process', got {clock!r}.")
        self.warmup_batches = warmup_batches
        self._clock = time.perf_counter if clock == "wall" else time.process_time
        self.images_per_second: float | None = None
        self._start = self._end = 0.0
        self._images = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._images = 0

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if batch_idx == self.warmup_batches:
            _synchronize(pl_module.device)
            self._start = self._clock()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if batch_idx >= self.warmup_batches:
            _synchronize(pl_module.device)
            self._end = self._clock()
            self._images += len(batch[0])

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._images and self._end > self._start:
            self.images_per_second = self._images / (self._end - self._start)
            pl_module.log("train/images_per_second", self.images_per_second)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
