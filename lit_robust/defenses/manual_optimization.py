"""`ManualOptimizationDefense`: the base of defenses that take several optimiser steps per batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput


class OptimizedPart(NamedTuple):
    """One optimiser of a :class:`ManualOptimizationDefense`: its parameters, factory and scheduler factory.

    Attributes:
        parameters: the parameters it updates.
        optimizer: the optimiser factory (``OptimizerCallable``).
        lr_scheduler: the scheduler factory of that optimiser, or ``None``.
    """

    parameters: Iterable[nn.Parameter]
    optimizer: OptimizerCallable
    lr_scheduler: LRSchedulerCallable | None = None


class ManualOptimizationDefense(RobustClassifier):
    """A :class:`RobustClassifier` trained with Lightning's manual optimisation (a GAN-like game, several
    networks): a subclass writes its losses and steps, the base does the rest.

    The subclass implements two hooks:

    - :meth:`optimized_parts` lists its optimisers (parameters, optimiser and scheduler factories), in the
      order of ``self.optimizers()``; the base builds them;
    - :meth:`manual_training_step` takes the batch's optimiser steps, each with :meth:`optimize` (the loss
      computed with only that optimiser's parameters trainable, ``toggle_optimizer``, then backpropagated
      and stepped), and returns the :class:`TrainingOutput` logged as ``train/loss`` and the training
      metrics, exactly as :class:`RobustClassifier` logs an automatic step.

    The base steps every scheduler, every epoch (``lr_scheduler_interval="epoch"``) or every step, while
    :meth:`schedulers_running` says so (by default always). ``ReduceLROnPlateau`` (which needs a metric)
    is refused.

    Args:
        backbone: the network mapping normalised images to logits.
        **kwargs: the :class:`RobustClassifier` arguments (``optimizer`` and ``lr_scheduler`` are those of
            the classifier, the first part by convention).
    """

    def __init__(self, backbone: nn.Module, **kwargs: Any) -> None:
        super().__init__(backbone, **kwargs)
        self.automatic_optimization = False

    # ----------------------------------------------------------------------------------------- hooks
    def optimized_parts(self) -> list[OptimizedPart]:
        """The optimisers, in the order of ``self.optimizers()``. Default: the whole module with the
        configured optimiser and scheduler."""
        return [OptimizedPart(self.parameters(), self.optimizer_factory, self.lr_scheduler_factory)]

    def manual_training_step(self, x: Tensor, y: Tensor, *extra: Tensor) -> TrainingOutput:
        """Takes the optimiser steps of a batch (with :meth:`optimize`); returns the loss and clean logits
        to log."""
        raise NotImplementedError(f"{type(self).__name__} must implement manual_training_step.")

    def schedulers_running(self) -> bool:
        """Whether the schedulers are stepped now (for example not during a pretraining phase)."""
        return True

    # ------------------------------------------------------------------------------------- the steps
    def optimize(
        self, optimizer: LightningOptimizer, loss_terms: Callable[[], dict[str, Tensor]], loss: str = "loss"
    ) -> dict[str, Tensor]:
        """Computes ``loss_terms()`` with only ``optimizer``'s parameters trainable, then takes one step on
        its ``loss`` entry (:meth:`step`); returns the terms (for logging)."""
        with self.toggled_optimizer(optimizer):
            terms = loss_terms()
            self.step(optimizer, terms[loss])
        return terms

    def step(self, optimizer: LightningOptimizer, loss: Tensor) -> None:
        """Zeroes the gradients, backpropagates ``loss`` (``manual_backward``) and steps ``optimizer``."""
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        x, y, *extra = batch
        self.log_training(self.manual_training_step(x, y, *extra), y)
        if self.hparams.get("lr_scheduler_interval", "epoch") == "step":
            self.step_schedulers()

    def on_train_epoch_end(self) -> None:
        if self.hparams.get("lr_scheduler_interval", "epoch") == "epoch":
            self.step_schedulers()

    def step_schedulers(self) -> None:
        """Steps every scheduler once, while :meth:`schedulers_running`."""
        schedulers = self.lr_schedulers()
        if schedulers is None or not self.schedulers_running():
            return
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            scheduler.step()

    def configure_optimizers(self) -> Any:
        parts = self.optimized_parts()
        optimizers = [part.optimizer(part.parameters) for part in parts]
        schedulers = [
            part.lr_scheduler(optimizer)
            for part, optimizer in zip(parts, optimizers, strict=True)
            if part.lr_scheduler is not None
        ]
        if any(isinstance(scheduler, ReduceLROnPlateau) for scheduler in schedulers):
            raise ValueError(
                f"{type(self).__name__} steps its schedulers itself, without a metric: use a scheduler "
                "other than ReduceLROnPlateau (StepLR, MultiStepLR, CosineAnnealingLR, ...)."
            )
        return optimizers, schedulers
