"""Counting images forwarded through a model and images back-propagated through it: the evaluation's cost.

The counts do not depend on the machine, so they are the cost figure of every benchmark. A forward pass of
a batch of ``n`` images counts ``n``; a backward pass that reaches the model's output counts ``n`` once per
backward pass (``torch.autograd.grad`` or ``.backward()``). The counter hooks the model itself (a forward
hook on an ``nn.Module``, and an autograd hook on each output that requires a gradient), so attacks that
call the model in their own way are counted too: plain callables, torchattacks attacks behind an adapter
that holds the module, ``EOT`` draws (one pass per draw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from torch import Tensor, nn

from lit_robust.attacks.base import Model


@dataclass
class PassCounts:
    """Running totals of images forwarded and back-propagated."""

    forward: int = 0
    backward: int = 0

    def since(self, start: PassCounts) -> PassCounts:
        """The passes counted after the snapshot ``start``."""
        return PassCounts(self.forward - start.forward, self.backward - start.backward)

    def snapshot(self) -> PassCounts:
        return PassCounts(self.forward, self.backward)


@contextmanager
def counting(model: Model, counts: PassCounts) -> Iterator[Model]:
    """Counts into ``counts`` every pass through ``model`` while the context is open.

    Yields the model to hand to attacks: ``model`` itself for an ``nn.Module`` (hooked, and unhooked on
    exit), a counting wrapper for any other callable.
    """
    if not isinstance(model, nn.Module):
        yield _CountingCallable(model, counts)
        return
    handle = model.register_forward_hook(partial(_count_module_call, counts))
    try:
        yield model
    finally:
        handle.remove()


class _CountingCallable:
    def __init__(self, model: Callable[[Tensor], Tensor], counts: PassCounts) -> None:
        self.model = model
        self.counts = counts

    def __call__(self, x: Tensor) -> Tensor:
        logits = self.model(x)
        _count(self.counts, x, logits)
        return logits


def _count_module_call(counts: PassCounts, module: nn.Module, args: tuple, output: object) -> None:
    if args and isinstance(args[0], Tensor):
        _count(counts, args[0], output)


def _count(counts: PassCounts, x: Tensor, output: object) -> None:
    images = len(x)
    counts.forward += images
    if isinstance(output, Tensor) and output.requires_grad:
        output.register_hook(partial(_count_backward, counts, images))


def _count_backward(counts: PassCounts, images: int, grad: Tensor) -> None:
    counts.backward += images
