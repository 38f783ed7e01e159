"""When an evaluation callback runs."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn


def evaluation_due(trainer: L.Trainer, every_n_epochs: int) -> bool:
    """Whether an evaluation runs in the current loop: never in the sanity check, always in ``validate`` and
    ``test``, and while fitting after every ``every_n_epochs``-th epoch."""
    if trainer.sanity_checking:
        return False
    return trainer.state.fn != TrainerFn.FITTING or (trainer.current_epoch + 1) % every_n_epochs == 0
