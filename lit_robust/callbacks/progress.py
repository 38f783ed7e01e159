"""The console side of an evaluation callback: a progress bar of the attack phase and the closing table."""

from __future__ import annotations

import sys
from types import TracebackType

import lightning as L
from tqdm.auto import tqdm

from lit_robust.evaluation.plan import Eps, format_eps


class AttackProgress:
    """A progress bar of the attack phase on global rank 0: the points done and the attack running now.

    Shown only where the trainer shows its own progress bar (``enable_progress_bar``), below it; under DDP it
    counts rank 0's share of the points. Use it as a context manager; it leaves nothing on the screen.

    Args:
        trainer: the running trainer.
        description: the bar's label, e.g. ``robustness (val)``.
        total: the points this rank attacks.
    """

    def __init__(self, trainer: L.Trainer, description: str, total: int) -> None:
        shown = trainer.is_global_zero and trainer.progress_bar_callback is not None
        self.bar = tqdm(
            total=total, desc=description, unit="pt", leave=False, dynamic_ncols=True, file=sys.stderr,
            disable=not shown,
        )  # fmt: skip

    def attack(self, name: str, eps: Eps) -> None:
        """Shows which attack runs now, at which epsilon."""
        self.bar.set_postfix_str(name if eps is None else f"{name} eps={format_eps(eps)}")

    def advance(self, points: int) -> None:
        """Counts ``points`` more points as done (every attack has run on them)."""
        self.bar.update(points)

    def __enter__(self) -> AttackProgress:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.bar.close()


def console_print(trainer: L.Trainer, text: str) -> None:
    """Prints ``text`` on global rank 0 without breaking the trainer's progress bar."""
    if not trainer.is_global_zero:
        return
    bar = trainer.progress_bar_callback
    if bar is not None:
        bar.print(text)
    else:
        print(text)
