"""The on-disk cache of precomputed images shared by the precomputing wrappers (constant perturbations,
pixel redrawn): a key of every parameter, a checksum of the stored images, atomic saves.

Saves write a ``.<pid>.partial`` file next to the cache and rename it into place, so a reader never sees a
half-written cache; the partial file is removed on every failure (a full disk, an interrupt, a directory
where the cache file should be). There is no lock: two processes that build the same cache at once both
do the work and write the same bytes (the images are deterministic from their key), and the last rename
wins, so the result is one whole, valid file either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor


def checksum(*tensors: Tensor) -> str:
    """SHA-256 of the tensors' shapes, dtypes and bytes."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(f"{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def cache_key(fields: dict[str, Any]) -> str:
    """Hex SHA-256 of ``fields`` (JSON-serialisable values) in a canonical order."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def cache_file(cache_dir: str | None, prefix: str, key: str) -> Path | None:
    """``<cache_dir>/<prefix>_<key[:20]>.pt``, or ``None`` without a ``cache_dir``."""
    return None if cache_dir is None else Path(cache_dir) / f"{prefix}_{key[:20]}.pt"


def load_cached(path: Path, key: str, owner: str) -> Tensor | None:
    """The images stored at ``path`` when its key is ``key`` and they match their stored checksum; ``None``
    (with a warning naming ``owner`` for a stale, corrupt or unreadable file) otherwise."""
    if not path.exists():
        return None
    if not path.is_file():
        raise ValueError(f"{owner}: the cache path {path} is not a file: remove it or set another cache_dir.")
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        valid = stored["key"] == key and stored["checksum"] == checksum(stored["images"])
    except Exception as error:  # any unreadable file is rebuilt, never trusted
        warnings.warn(f"{owner}: unreadable cache {path} ({error!r}): rebuilding it.", stacklevel=3)
        return None
    if not valid:
        warnings.warn(f"{owner}: stale or corrupt cache {path}: rebuilding it.", stacklevel=3)
        return None
    return stored["images"]


def save_cached(path: Path, key: str, images: Tensor) -> None:
    """Saves ``images`` with ``key`` and their checksum; the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")  # ranks never see a half-written file
    try:
        torch.save({"key": key, "checksum": checksum(images), "images": images}, partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
