"""`EnsembleDiversity`: interrater agreement of N sampled models, logged at validation end."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch import Tensor

from lit_robust.callbacks.schedule import evaluation_due
from lit_robust.defenses.layer_sampling import RandomLayerSampling
from lit_robust.metrics.agreement import InterraterAgreement


class EnsembleDiversity(Callback):
    """Logs ``val/interrater_agreement``, kappa of ``samples`` sampled models of a ``RandomLayerSampling``.

    At the start of each evaluated validation epoch, ``samples`` paths are drawn from a generator seeded with
    ``seed`` (the same paths on every DDP rank) and fixed for the epoch, so kappa compares the same N
    classifiers on every point, as Kuncheva and Whitaker's measure assumes (the paper uses N=10). The
    metric's states are sums, so the logged value is exact across ranks.

    Args:
        samples: N, the number of sampled models compared.
        every_n_epochs: while fitting, evaluate every this many epochs (validate always evaluates).
        max_batches: validation batches evaluated per epoch (``None``: all); bounds the cost.
        seed: seed of the paths' generator.
    """

    def __init__(
        self, samples: int = 10, every_n_epochs: int = 1, max_batches: int | None = None, seed: int = 0
    ) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}.")
        if max_batches is not None and max_batches < 1:
            raise ValueError(f"max_batches must be >= 1 or None, got {max_batches}.")
        self.metric = InterraterAgreement(samples)
        self.samples = samples
        self.every_n_epochs = every_n_epochs
        self.max_batches = max_batches
        self.seed = seed
        self._paths: Tensor | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not isinstance(pl_module, RandomLayerSampling):
            raise TypeError(
                f"EnsembleDiversity needs a RandomLayerSampling model, got {type(pl_module).__name__}."
            )

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._paths = None
        if not evaluation_due(trainer, self.every_n_epochs):
            return
        generator = torch.Generator().manual_seed(self.seed)
        self._paths = pl_module.ensemble.sample_paths(self.samples, generator)  # type: ignore[attr-defined]
        self.metric.to(pl_module.device)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self._paths is None or (self.max_batches is not None and batch_idx >= self.max_batches):
            return
        x, y = batch
        models = [pl_module.sampled_model(path) for path in self._paths]  # type: ignore[attr-defined]
        self.metric.update(torch.stack([model(x).argmax(dim=-1) for model in models]), y)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._paths is not None:
            pl_module.log("val/interrater_agreement", self.metric.compute())
            self.metric.reset()
