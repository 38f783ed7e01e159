"""Where a test-time-capable defense applies its transformation: in training, at test time, or both."""

from __future__ import annotations

from typing import Literal

Phase = Literal["train", "test", "both"]


def phase_flags(phase: str) -> tuple[bool, bool]:
    """``(in training, at test time)`` for ``phase``; raises a ``ValueError`` for anything but the three."""
    if phase not in ("train", "test", "both"):
        raise ValueError(f"phase must be 'train', 'test' or 'both', got {phase!r}.")
    return phase in ("train", "both"), phase in ("test", "both")
