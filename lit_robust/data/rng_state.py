"""The global random state (torch CPU and CUDA, Python's ``random``) as checkpoint-safe values.

Shuffling (a ``RandomSampler`` draws its seed from the torch RNG each epoch), augmentation, dropout and
attacks without a generator all draw from the global RNG, which Lightning does not checkpoint: a resumed
run would continue from the seed instead of from where the interrupted run was. The datamodules store this
state in their ``state_dict`` (Lightning saves it in every checkpoint and restores it before training
resumes), so a resumed run draws the same numbers as an uninterrupted one. Only tensors, tuples and ints:
the checkpoint still loads with ``weights_only=True``. NumPy's global RNG is not kept (lit_robust draws
nothing from it while training).
"""

from __future__ import annotations

import random
from typing import Any

import torch


def global_rng_state() -> dict[str, Any]:
    """The torch CPU state, every CUDA device's state (when CUDA is initialised) and Python's ``random``."""
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_global_rng_state(state: dict[str, Any]) -> None:
    """Restores a state from :func:`global_rng_state` (CUDA states only where CUDA is available)."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
