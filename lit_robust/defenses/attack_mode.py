"""In which train/eval mode a defense crafts its training-time adversarial examples."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from torch import nn

AttackMode = Literal["train", "eval"]


def check_attack_mode(mode: str) -> None:
    """Raises a ``ValueError`` unless ``mode`` is ``"train"`` or ``"eval"`` (constructors check early)."""
    if mode not in ("train", "eval"):
        raise ValueError(f"attack_mode must be 'train' or 'eval', got {mode!r}.")


@contextmanager
def module_mode(module: nn.Module, mode: AttackMode) -> Iterator[None]:
    """Puts ``module`` in ``mode`` for the block and restores every submodule's own mode afterwards.

    ``"eval"`` crafts against the deterministic model (batch-norm running statistics, no dropout), as the
    TRADES and most PyTorch adversarial-training codes do; ``"train"`` crafts against the model as it is
    trained (batch statistics, dropout on), as Madry et al.'s TensorFlow code does.
    """
    check_attack_mode(mode)
    modes = [(m, m.training) for m in module.modules()]
    module.train(mode == "train")
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training
