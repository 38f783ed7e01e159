"""In which train/eval mode a defense crafts its training-time adversarial examples."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

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
    trained (batch statistics, dropout on), as Madry et al.'s TensorFlow code does. In ``"train"`` mode the
    batch-norm layers stop tracking their running statistics for the block (``track_running_stats`` off:
    batch statistics, no in-place update, so graphs through several passes stay valid): crafting never
    moves them, and they follow the training batches alone. (Madry et al.'s CIFAR-10 code,
    ``updates_collections=None``, also moves them at every attack step: a side effect on the
    evaluation-time statistics that lit_robust leaves out, whatever an attack itself does with a model
    handed to it in training mode.)
    """
    check_attack_mode(mode)
    modes = [(m, m.training) for m in module.modules()]
    tracking = [(m, m.track_running_stats) for m in module.modules() if isinstance(m, _BatchNorm)]
    module.train(mode == "train")
    if mode == "train":
        for batch_norm, _ in tracking:
            batch_norm.track_running_stats = False
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training
        for batch_norm, tracks in tracking:
            batch_norm.track_running_stats = tracks
