"""`global_mean`: a mean over the selected samples of every DDP process, with DDP-correct gradients."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def global_mean(values: Tensor) -> Tensor:
    """The mean of the 1-D ``values`` (this process's selected samples, possibly none) over all processes.

    Without DDP, ``values.mean()`` (0 when empty). Under DDP the sums and counts are all-reduced, so every
    process gets the mean over the samples of all processes, not the mean of per-process means; the
    gradient is scaled by the number of processes, so that DDP's averaging of the gradients over the
    processes gives the gradient of that global mean. Every process must call it at the same point.
    """
    local_sum = values.sum()
    stats = torch.stack([local_sum.detach(), values.new_tensor(float(len(values)))])
    world_size = 1
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(stats)
        world_size = dist.get_world_size()
    total, count = stats[0], stats[1].clamp_min(1)
    scaled = local_sum * (world_size / count)
    return scaled + (total / count - scaled).detach()
