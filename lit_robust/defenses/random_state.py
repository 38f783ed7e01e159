"""`RandomState`: replay the global random state, so that forward passes draw the same dropout masks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class RandomState:
    """The global CPU (and, for a CUDA ``device``, that device's) random state at construction.

    ``replay()`` runs a block from that state and restores the current state afterwards: forward passes of
    the same shapes inside it draw the same dropout masks as the pass that followed the construction.

    Args:
        device: the device the forward passes run on.
    """

    def __init__(self, device: torch.device) -> None:
        self.devices = [device] if device.type == "cuda" else []
        self.cpu = torch.get_rng_state()
        self.accelerator = [torch.cuda.get_rng_state(d) for d in self.devices]

    @contextmanager
    def replay(self) -> Iterator[None]:
        """A block that starts from the saved random state and leaves the current one untouched."""
        with torch.random.fork_rng(devices=self.devices):
            torch.set_rng_state(self.cpu)
            for device, state in zip(self.devices, self.accelerator, strict=True):
                torch.cuda.set_rng_state(state, device)
            yield
