"""When the evaluation callbacks run: every n epochs, and the fit's last validation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lightning.pytorch.trainer.states import TrainerFn

from lit_robust.callbacks.schedule import evaluation_due, final_validation


def trainer(epoch: int = 0, step: int = 10, max_epochs: int | None = 3, max_steps: int = -1, **other):
    """A stand-in with the attributes the schedule reads."""
    settings = {
        "current_epoch": epoch, "global_step": step, "max_epochs": max_epochs, "max_steps": max_steps,
        "should_stop": False, "sanity_checking": False, "state": SimpleNamespace(fn=TrainerFn.FITTING),
    }  # fmt: skip
    return SimpleNamespace(**{**settings, **other})


@pytest.mark.parametrize(
    ("fake", "final"),
    [
        (trainer(epoch=2), True),  # max_epochs reached
        (trainer(epoch=1), False),
        (trainer(epoch=0, step=10, max_epochs=-1, max_steps=10), True),  # max_steps reached
        (trainer(epoch=0, step=5, max_epochs=-1, max_steps=10), False),
        (trainer(epoch=0, should_stop=True), True),  # early stopping, max_time
    ],
)
def test_final_validation(fake, final):
    assert final_validation(fake) is final


def test_due_every_n_epochs_at_the_end_of_fit_and_always_outside_fit():
    due = [evaluation_due(trainer(epoch=e, max_epochs=5), 2) for e in range(5)]
    assert due == [False, True, False, True, False]
    assert evaluation_due(trainer(epoch=4, max_epochs=5), 2, at_fit_end=True)
    assert not evaluation_due(trainer(epoch=2, sanity_checking=True), 1, at_fit_end=True)
    assert evaluation_due(trainer(epoch=0, state=SimpleNamespace(fn=TrainerFn.TESTING)), 7)
