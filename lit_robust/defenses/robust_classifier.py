"""`RobustClassifier`: standard training, and the base class of every lit_robust defense."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import FrameType
from typing import Any, Literal, NamedTuple

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.core.mixins import HyperparametersMixin
from lightning.pytorch.utilities.parsing import collect_init_args
from torch import Tensor, nn
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from lit_robust.lightning_internals import given_hyperparameters
from lit_robust.models import DefendedModel, Normalize

Stage = Literal["train", "val", "test"]


class TrainingOutput(NamedTuple):
    """What :meth:`RobustClassifier.training_loss` returns.

    Attributes:
        loss: the scalar that is minimised.
        logits: logits on the clean batch, used for the ``train/acc`` metric.
    """

    loss: Tensor
    logits: Tensor


class RobustClassifier(L.LightningModule):
    """An image classifier whose inputs are [0, 1] pixels: a :class:`~lit_robust.models.DefendedModel`
    (an optional test-time input transform, ``Normalize``, then the backbone) trained by Lightning.

    Every epsilon is therefore in pixel space, and any attack can call the module directly. The pure-torch
    model is :attr:`model` (``backbone`` and ``normalize`` are its parts); a defense with a test-time
    preprocessing step sets ``self.model.transform``. Subclasses (the defenses) override small hooks
    instead of ``training_step``:

    - :meth:`training_loss` returns the loss of a training batch (and the clean logits for metrics); a
      datamodule may add tensors to each batch after ``(x, y)``, which reach it as further arguments
      (precomputed adversarial examples, for example);
    - :meth:`forward` is the defended model that predictions and attacks see (by default :attr:`model`;
      an ensemble average may override it, see :attr:`defended_model`);
    - :meth:`configure_metrics` builds the torchmetrics collection logged for each stage.

    Checkpoint keys are ``model.normalize.*``, ``model.backbone.*`` (and ``model.transform.*``); those of
    the earlier layout (``normalize.*``, ``backbone.*``, see :meth:`legacy_key_prefixes`) still load.

    Args:
        backbone: the network mapping normalised images to logits.
        num_classes: number of classes (linked from the datamodule by the CLI).
        mean: per-channel mean of the normalisation layer (linked from the datamodule by the CLI).
        std: per-channel standard deviation of the normalisation layer.
        optimizer: optimiser factory taking the parameters (``OptimizerCallable``).
        lr_scheduler: optional learning-rate scheduler factory taking the optimiser.
        lr_scheduler_interval: step the scheduler every ``"epoch"`` or every ``"step"``.
        lr_scheduler_monitor: metric a ``ReduceLROnPlateau`` scheduler watches.
        label_smoothing: label smoothing of the training cross-entropy (the Pixel Redrawn paper uses 0.1).
        compile: compile the backbone with ``torch.compile`` (in place, ``nn.Module.compile``: parameter
            names and checkpoints are unchanged). Opt-in: the first batches of each shape and mode pay the
            compilation (tens of seconds), and attacks' input gradients go through the compiled graphs.
        channels_last: store the backbone's 4-D weights in the channels-last memory format; convolutions
            then return channels-last activations, which tensor cores prefer (mostly a GPU win, with AMP).
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int = 10,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        optimizer: OptimizerCallable = torch.optim.Adam,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_scheduler_interval: Literal["epoch", "step"] = "epoch",
        lr_scheduler_monitor: str = "val/loss",
        label_smoothing: float = 0.0,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
        self.save_hyperparameters(ignore=_live_objects(inspect.currentframe()))
        self.num_classes = num_classes
        self.model = DefendedModel(
            backbone, mean if mean is not None else 0.0, std if std is not None else 1.0
        )
        if channels_last:
            backbone.to(memory_format=torch.channels_last)
        if compile:
            backbone.compile()
        self.optimizer_factory = optimizer
        self.lr_scheduler_factory = lr_scheduler
        self.train_metrics = self.configure_metrics("train")
        self.val_metrics = self.configure_metrics("val")
        self.test_metrics = self.configure_metrics("test")
        self.losses = nn.ModuleDict({stage: MeanMetric() for stage in ("val", "test")})  # exact under DDP
        self.register_load_state_dict_pre_hook(_rename_legacy_keys)

    @property
    def backbone(self) -> nn.Module:
        """The network mapping normalised images to logits (``model.backbone``)."""
        return self.model.backbone

    @property
    def normalize(self) -> Normalize:
        """The normalisation layer (``model.normalize``)."""
        return self.model.normalize

    @property
    def defended_model(self) -> nn.Module:
        """The pure-torch model that :meth:`forward` runs, for use without Lightning (transfer sources,
        evaluation): :attr:`model`, unless a subclass's :meth:`forward` is something else."""
        return self.model

    def legacy_key_prefixes(self) -> dict[str, str]:
        """Old checkpoint key prefixes and the ones they load into (the layout before ``model.*``)."""
        return {"normalize.": "model.normalize.", "backbone.": "model.backbone."}

    # ----------------------------------------------------------------------------------------- hooks
    def configure_metrics(self, stage: Stage) -> MetricCollection:
        """The metrics of one stage, logged as ``{stage}/{name}``. Override to add metrics."""
        return MetricCollection(
            {"acc": MulticlassAccuracy(num_classes=self.num_classes, average="micro")}, prefix=f"{stage}/"
        )

    def forward(self, x: Tensor) -> Tensor:
        """Logits of the defended model for images ``x`` in [0, 1]."""
        return self.model(x)

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        """Loss of a training batch. Standard training: cross-entropy on the clean batch."""
        logits = self(x)
        return TrainingOutput(self.classification_loss(logits, y), logits)

    def classification_loss(self, logits: Tensor, y: Tensor) -> Tensor:
        """Cross-entropy with the configured label smoothing."""
        return F.cross_entropy(logits, y, label_smoothing=self.hparams.get("label_smoothing", 0.0))

    # ------------------------------------------------------------------------------- Lightning steps
    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        x, y, *extra = batch  # extra: what a datamodule adds to each batch, passed on to training_loss
        output = self.training_loss(x, y, *extra)
        self.log_training(output, y)
        return output.loss

    def log_training(self, output: TrainingOutput, y: Tensor) -> None:
        """Logs ``train/loss`` and updates and logs the training metrics on the clean logits."""
        self.train_metrics.update(output.logits.detach(), y)
        self.log("train/loss", output.loss, prog_bar=True, batch_size=len(y))
        self.log_dict(self.train_metrics, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y))

    def log_terms(self, terms: Mapping[str, Tensor], batch_size: int) -> None:
        """Logs the parts of a training loss as ``train/{name}`` (at every step)."""
        self.log_dict({f"train/{name}": value for name, value in terms.items()}, batch_size=batch_size)

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Class probabilities of the batch (a ``(x, y)`` pair or images alone)."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        return self(x).softmax(dim=-1)

    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: Stage) -> None:
        x, y = batch
        logits = self(x)
        metrics = self.val_metrics if stage == "val" else self.test_metrics
        metrics.update(logits, y)
        self.losses[stage].update(F.cross_entropy(logits, y), weight=len(y))
        self.log(f"{stage}/loss", self.losses[stage], batch_size=len(y), metric_attribute=f"losses.{stage}")
        self.log_dict(metrics, prog_bar=stage == "val", batch_size=len(y))

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.lr_scheduler_factory is None:
            return optimizer
        scheduler = {
            "scheduler": self.lr_scheduler_factory(optimizer),
            "interval": self.hparams.get("lr_scheduler_interval", "epoch"),
            "monitor": self.hparams.get("lr_scheduler_monitor", "val/loss"),
        }
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def _rename_legacy_keys(
    module: RobustClassifier, state_dict: dict[str, Any], prefix: str, *args: Any
) -> None:
    """A ``load_state_dict`` pre-hook: renames the keys of the earlier checkpoint layout in place (see
    :meth:`RobustClassifier.legacy_key_prefixes`), so old checkpoints load into the current modules."""
    for old, new in module.legacy_key_prefixes().items():
        for key in [k for k in state_dict if k.startswith(prefix + old)]:
            state_dict[prefix + new + key[len(prefix + old) :]] = state_dict.pop(key)


def _live_objects(frame: FrameType | None) -> list[str]:
    """Constructor arguments that are live objects (modules, optimiser factories), kept out of the hparams.

    Through the CLI, Lightning hands the module its config (``class_path`` dictionaries) instead, which lets
    ``load_from_checkpoint`` rebuild every injected part, so nothing is left out there. Built in Python, such
    arguments cannot be saved in a weights-only checkpoint: modules are already in the state dict and must be
    passed to ``load_from_checkpoint`` again
    (``RobustClassifier.load_from_checkpoint(path, backbone=LeNet5())``),
    and factories fall back to their defaults unless passed too.
    """
    if given_hyperparameters() is not None or frame is None:
        return []
    arguments = collect_init_args(frame, [], classes=(HyperparametersMixin,))
    return [
        name
        for args in arguments
        for name, value in args.items()
        if isinstance(value, nn.Module) or callable(value)
    ]
