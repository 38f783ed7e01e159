"""`EnsembleDiversity`: interrater agreement of N distinct sampled models, logged at validation end."""

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
    """Logs kappa of ``samples`` distinct sampled models of a ``RandomLayerSampling``, over ``repeats`` draws.

    The paper's protocol (section 4.5): 10 sampled models, repeated 10 times. At the start of each
    evaluated validation epoch, ``repeats`` sets of ``samples`` *distinct* paths are drawn from a generator
    seeded with ``seed`` (the same paths on every DDP rank) and fixed for the epoch, so each kappa compares
    the same N different classifiers on every point, as Kuncheva and Whitaker's measure assumes (a path
    drawn twice would be one classifier counted as two raters that always agree, which inflates kappa).
    Logged: ``val/interrater_agreement``, the mean of the ``repeats`` kappas, and
    ``val/interrater_agreement_std``, their standard deviation (the paper's ±). The metrics' states are
    sums, so the logged values are exact across ranks. Each evaluated batch costs ``samples * repeats``
    forward passes of one sampled model.

    Args:
        samples: N, the number of distinct sampled models compared (at most the ensemble's paths).
        repeats: how many sets of N paths are drawn; their kappas are averaged.
        every_n_epochs: while fitting, evaluate every this many epochs (validate always evaluates).
        max_batches: validation batches evaluated per epoch (``None``: all); bounds the cost.
        seed: seed of the paths' generator.
    """

    def __init__(
        self,
        samples: int = 10,
        repeats: int = 10,
        every_n_epochs: int = 1,
        max_batches: int | None = None,
        seed: int = 0,
    ) -> None:
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}.")
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}.")
        if max_batches is not None and max_batches < 1:
            raise ValueError(f"max_batches must be >= 1 or None, got {max_batches}.")
        self.metrics = [InterraterAgreement(samples) for _ in range(repeats)]
        self.samples = samples
        self.every_n_epochs = every_n_epochs
        self.max_batches = max_batches
        self.seed = seed
        self._paths: list[Tensor] | None = None

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
        ensemble = pl_module.ensemble  # type: ignore[attr-defined]
        self._paths = [ensemble.sample_paths(self.samples, generator, distinct=True) for _ in self.metrics]
        for metric in self.metrics:
            metric.to(pl_module.device)

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
        for metric, paths in zip(self.metrics, self._paths, strict=True):
            models = [pl_module.sampled_model(path) for path in paths]  # type: ignore[attr-defined]
            metric.update(torch.stack([model(x).argmax(dim=-1) for model in models]), y)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._paths is None:
            return
        kappas = torch.stack([metric.compute() for metric in self.metrics])
        pl_module.log("val/interrater_agreement", kappas.mean())
        if len(kappas) > 1:
            pl_module.log("val/interrater_agreement_std", kappas.std())
        for metric in self.metrics:
            metric.reset()
