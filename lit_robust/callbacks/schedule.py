"""When an evaluation callback runs, and a warning when a configured one never will."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_warn


def final_validation(trainer: L.Trainer) -> bool:
    """Whether the running validation loop is the fit's last: the trainer stops after it, having reached
    ``max_epochs`` or ``max_steps``, or because something (early stopping, ``max_time``) asked it to."""
    epochs_done = trainer.current_epoch + 1
    max_epochs, max_steps = trainer.max_epochs, trainer.max_steps
    return (
        trainer.should_stop
        or (max_epochs is not None and max_epochs >= 0 and epochs_done >= max_epochs)
        or (max_steps >= 0 and trainer.global_step >= max_steps)
    )


def evaluation_due(trainer: L.Trainer, every_n_epochs: int, at_fit_end: bool = False) -> bool:
    """Whether an evaluation runs in the current loop: never in the sanity check, always in ``validate`` and
    ``test``, and while fitting after every ``every_n_epochs``-th epoch and, with ``at_fit_end``, in the fit's
    last validation loop (see :func:`final_validation`)."""
    if trainer.sanity_checking:
        return False
    if trainer.state.fn != TrainerFn.FITTING:
        return True
    return (trainer.current_epoch + 1) % every_n_epochs == 0 or (at_fit_end and final_validation(trainer))


def warn_if_never_due(trainer: L.Trainer, name: str, every_n_epochs: int, at_fit_end: bool = False) -> None:
    """Warns (rank 0) when the fit that starts will run no evaluation of the callback ``name``."""
    reason = _never_due_reason(trainer, every_n_epochs, at_fit_end)
    if reason:
        rank_zero_warn(f"{name} will not evaluate during this fit: {reason}.")


def _never_due_reason(trainer: L.Trainer, every_n_epochs: int, at_fit_end: bool) -> str | None:
    if trainer.limit_val_batches == 0:
        return "there is no validation loop (limit_val_batches=0)"
    check_every = trainer.check_val_every_n_epoch
    max_epochs = trainer.max_epochs
    if max_epochs is None or max_epochs < 0 or trainer.max_steps >= 0:
        return None  # the length of the fit is not known in epochs
    if check_every is not None and check_every > max_epochs:
        return f"validation runs every {check_every} epochs and the fit has max_epochs={max_epochs}"
    if not at_fit_end and every_n_epochs > max_epochs:
        return (
            f"it evaluates every {every_n_epochs} epochs and the fit has max_epochs={max_epochs} "
            "(set at_fit_end: true to evaluate the final model)"
        )
    return None
