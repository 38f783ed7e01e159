"""TensorBoard output of the evaluation callbacks: figures, sanity flags, the Custom Scalars layout and
``hp_metric``.

Only TensorBoard loggers receive them, only on global rank 0; with other loggers (or none) nothing happens.
Scalars go through ``LightningModule.log`` and so reach every logger.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from matplotlib.figure import Figure

HP_METRIC = "hp_metric"


def tensorboard_loggers(trainer: L.Trainer) -> list[TensorBoardLogger]:
    """The trainer's TensorBoard loggers (none off rank 0)."""
    if not trainer.is_global_zero:
        return []
    return [logger for logger in trainer.loggers if isinstance(logger, TensorBoardLogger)]


def log_figure(trainer: L.Trainer, tag: str, figure: Figure) -> None:
    """Adds ``figure`` to every TensorBoard logger at the current global step."""
    for logger in tensorboard_loggers(trainer):
        logger.experiment.add_figure(tag, figure, global_step=trainer.global_step, close=False)


def log_text(trainer: L.Trainer, tag: str, lines: list[str]) -> None:
    """Adds ``lines`` as a text entry (markdown list) to every TensorBoard logger."""
    for logger in tensorboard_loggers(trainer):
        text = "\n".join(f"- {line}" for line in lines)
        logger.experiment.add_text(tag, text, global_step=trainer.global_step)


def log_custom_scalars(trainer: L.Trainer, layout: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
    """Writes a Custom Scalars layout: category -> chart title -> the scalar tags drawn together.

    TensorBoard shows the first layout written into a run, so write it once per run.
    """
    charts = {
        category: {title: ["Multiline", [f"^{re.escape(t)}$" for t in tags]] for title, tags in group.items()}
        for category, group in layout.items()
    }
    for logger in tensorboard_loggers(trainer):
        logger.experiment.add_custom_scalars(charts)


def log_hp_metric(trainer: L.Trainer, value: float) -> None:
    """Records the run's hyper-parameters with ``hp_metric = value`` (TensorBoard's HParams view)."""
    for logger in tensorboard_loggers(trainer):
        logger.log_hyperparams(logger.hparams, {HP_METRIC: value}, step=trainer.global_step)
