"""`CachedStep`: a precomputing step whose generated tensor is kept in an on-disk cache between runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from lit_robust.data.cache import cache_file, cache_key, checksum, load_cached, save_cached
from lit_robust.data.dataset import Batch
from lit_robust.data.seeding import global_seed
from lit_robust.data.source import ImageSource
from lit_robust.data.step import PrecomputeStep
from lit_robust.validation import check_int


class CachedStep(PrecomputeStep):
    """A step that generates a tensor from ``seed`` and, with ``cache_dir``, caches it under a key of every
    parameter and of the data (:mod:`lit_robust.data.cache`: a stale or corrupt file is rebuilt).

    Subclasses set :attr:`cache_prefix`, build their key with :meth:`key_of` and get the tensor from
    :meth:`cached`.

    Args:
        seed: seed of what the step generates; ``None`` follows the run's seed (``seed_everything``), so
            that runs with different seeds generate different tensors.
        cache_dir: directory of the cache; ``None`` generates at every setup.
        progress: show a progress bar while generating.
    """

    cache_prefix: str
    """Start of the cache files' names."""

    def __init__(self, seed: int | None = 0, cache_dir: str | None = None, progress: bool = True) -> None:
        if seed is not None:
            check_int("seed", seed, 0)
        self.seed = seed
        self.cache_dir = cache_dir
        self.progress = progress

    @property
    def generation_seed(self) -> int:
        """The seed the step generates from: ``seed``, or the run's seed when ``seed`` is ``None``."""
        return global_seed() if self.seed is None else self.seed

    @staticmethod
    def key_of(clean: Batch, source: ImageSource, **fields: Any) -> str:
        """Hex key of ``fields`` (JSON values) and of the data: the source's class, the size, a checksum."""
        kind = type(source)
        data = {
            "base": f"{kind.__module__}.{kind.__qualname__}",
            "size": len(clean[1]),
            "data": checksum(*clean),
        }
        return cache_key({**fields, **data})

    def cached(self, key: str, generate: Callable[[], Tensor]) -> Tensor:
        """The tensor stored under ``key``, or ``generate()`` (saved under ``key`` with a ``cache_dir``)."""
        path = cache_file(self.cache_dir, self.cache_prefix, key)
        tensor = load_cached(path, key, type(self).__name__) if path is not None else None
        if tensor is None:
            tensor = generate()
            if path is not None:
                save_cached(path, key, tensor)
        return tensor
