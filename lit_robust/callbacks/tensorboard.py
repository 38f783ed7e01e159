"""TensorBoard output of the evaluation callbacks: the accuracy figure, example images, sanity flags.

Only TensorBoard loggers receive them, only on global rank 0; with other loggers (or none) nothing happens.
Scalars go through ``LightningModule.log`` and so reach every logger.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from matplotlib.figure import Figure
from torch import Tensor
from torchvision.utils import make_grid


def tensorboard_writers(trainer: L.Trainer) -> list:
    """The ``SummaryWriter`` of every TensorBoard logger of the trainer (none off rank 0)."""
    if not trainer.is_global_zero:
        return []
    return [logger.experiment for logger in trainer.loggers if isinstance(logger, TensorBoardLogger)]


def log_figure(trainer: L.Trainer, tag: str, figure: Figure) -> None:
    """Adds ``figure`` to every TensorBoard logger at the current global step."""
    for writer in tensorboard_writers(trainer):
        writer.add_figure(tag, figure, global_step=trainer.global_step, close=False)


def log_examples(trainer: L.Trainer, tag: str, clean: Tensor, adversarial: dict[str, Tensor]) -> None:
    """Adds one image grid: the clean images in the first row, each attack's examples in the next rows."""
    writers = tensorboard_writers(trainer)
    if not writers or len(clean) == 0:
        return
    rows = torch.cat([clean, *adversarial.values()]).detach().float().cpu().clamp(0, 1)
    grid = make_grid(rows, nrow=len(clean), padding=1, pad_value=0.5)
    for writer in writers:
        writer.add_image(tag, grid, global_step=trainer.global_step)


def log_text(trainer: L.Trainer, tag: str, lines: list[str]) -> None:
    """Adds ``lines`` as a text entry (markdown list) to every TensorBoard logger."""
    for writer in tensorboard_writers(trainer):
        writer.add_text(tag, "\n".join(f"- {line}" for line in lines), global_step=trainer.global_step)
