"""`PreemptionCheckpoint`: a resumable checkpoint when a fit is stopped by SIGTERM (cluster preemption).

Lightning turns SIGTERM into a flag: the loop finishes the current batch and raises ``SIGTERMException``,
a ``SystemExit`` whose status is 0, and saves nothing. This callback saves the trainer's full state at
that point (weights, optimiser, loops, callbacks), and :func:`lit_robust.cli.run_cli` turns the exception
into exit status 143 (128 + SIGTERM), so the scheduler sees a job that did not finish. The ``lit-robust``
command adds the callback to every run.

The file is ``last-preempted.ckpt`` in the checkpoint directory of the run's ``ModelCheckpoint`` (or
``<default_root_dir>/checkpoints`` without one), so ``--ckpt_path last`` resumes from it when it is the
newest last checkpoint; a fit that completes removes it.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException

PREEMPTED_NAME = f"{ModelCheckpoint.CHECKPOINT_NAME_LAST}-preempted{ModelCheckpoint.FILE_EXTENSION}"
SIGTERM_EXIT_STATUS = 143


def preempted_checkpoint_path(trainer: L.Trainer) -> Path:
    """Where :class:`PreemptionCheckpoint` saves for this trainer."""
    checkpoint = trainer.checkpoint_callback
    if isinstance(checkpoint, ModelCheckpoint) and checkpoint.dirpath is not None:
        return Path(checkpoint.dirpath) / PREEMPTED_NAME
    return Path(trainer.default_root_dir) / "checkpoints" / PREEMPTED_NAME


class PreemptionCheckpoint(Callback):
    """Saves ``last-preempted.ckpt`` when a fit stops on SIGTERM; removes it when a fit completes."""

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, SIGTERMException) or trainer.state.fn != TrainerFn.FITTING:
            return
        path = preempted_checkpoint_path(trainer)
        trainer.save_checkpoint(path)
        rank_zero_warn(
            f"stopped by SIGTERM at epoch {trainer.current_epoch}, step {trainer.global_step}: saved a "
            f"resumable checkpoint to {path}; resume with --ckpt_path {path} (or --ckpt_path last).",
            category=UserWarning,
        )

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            preempted_checkpoint_path(trainer).unlink(missing_ok=True)
