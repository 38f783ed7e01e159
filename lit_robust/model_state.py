"""`preserved_state`: run code on a model and leave it as it was found (modes, buffers, global RNG).

The rule of every lit_robust attack (see :class:`lit_robust.attacks.Attack`): the model runs in the mode
it was handed, so an attack crafted during training with train-mode batch norm normalises with batch
statistics and applies dropout, as the defense chose; but nothing of the model changes. Train/eval flags
are restored, every buffer (batch norm running statistics and their counter included) is copied back in
place, and with a generator the global RNG that dropout draws from is forked and seeded from it, so a
seeded attack is repeatable and the program's global random stream is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def preserved_state(model: object, generator: torch.Generator | None = None) -> Iterator[None]:
    """Restores ``model``'s train/eval flags and buffers on exit (``model`` not an ``nn.Module``: nothing).

    Args:
        model: the model the block runs.
        generator: when given and some module of ``model`` is in training mode, the global RNG is forked
            (CPU and the generator's CUDA device) and seeded from ``generator``'s state (without drawing
            from it) for the block, so dropout is repeatable; without one, dropout uses the global RNG.
    """
    if not isinstance(model, nn.Module):
        yield
        return
    modules = list(model.modules())
    modes = [m.training for m in modules]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        if generator is not None and any(modes):
            with seeded_global_rng(_peek_seed(generator), generator.device):
                yield
        else:
            yield
    finally:
        for module, training in zip(modules, modes, strict=True):
            module.training = training
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)


@contextmanager
def seeded_global_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Forks the global RNG (CPU and ``device`` when it is a CUDA device) and seeds it with ``seed`` for the
    block: what the block draws is fixed by ``seed``, and the global stream outside is unchanged."""
    on_cuda = device.type == "cuda"
    with torch.random.fork_rng(devices=[device] if on_cuda else []):
        torch.default_generator.manual_seed(seed)
        if on_cuda:
            torch.cuda.default_generators[device.index or 0].manual_seed(seed)
        yield


def _peek_seed(generator: torch.Generator) -> int:
    """A seed drawn from a copy of ``generator``: the attack's own stream is left where it was."""
    peek = torch.Generator(device=generator.device)
    peek.set_state(generator.get_state())
    return int(torch.randint(2**62, (1,), generator=peek, device=generator.device))
