"""Seeds of the data pipeline: independent generators from integer keys, and the run's global seed."""

from __future__ import annotations

import os

import numpy as np
import torch


def seeded_generator(*key: int) -> torch.Generator:
    """A CPU generator seeded from ``key`` so that different keys give independent streams."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence(key).generate_state(1)[0]))


def global_seed() -> int:
    """The seed of ``seed_everything`` (``PL_GLOBAL_SEED``, as Lightning's DDP sampler uses), or 0."""
    return int(os.environ.get("PL_GLOBAL_SEED", 0))
