"""Static source models of ensemble adversarial training: trained once on clean data, or loaded, then frozen.

Ensemble AT2L (Li et al. 2019, Algorithm 2) and ensemble adversarial training (Tramer et al. 2018) craft
training examples against other networks than the one being trained. A :class:`SourceModel` is such a
network behind the same ``Normalize`` layer as the defended model, so that every attack works on [0, 1]
pixels; its parameter names are those of a :class:`~lit_robust.defenses.RobustClassifier`
(``normalize.*``, ``backbone.*``), so the weights of a lit-robust checkpoint load into it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from lit_robust.data.dataset import Batch
from lit_robust.models import Normalize, load_defended_weights


class SourceModel(nn.Sequential):
    """``Normalize(mean, std)`` then ``backbone``: logits of [0, 1] images.

    Args:
        backbone: the source network (for example ``MnistModelB``).
        mean: per-channel mean of the normalisation (the datamodule's).
        std: per-channel standard deviation of the normalisation.
    """

    def __init__(self, backbone: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__(OrderedDict(normalize=Normalize(mean, std), backbone=backbone))

    def freeze(self) -> SourceModel:
        """Eval mode and no parameter gradients: attacks only take input gradients of a source."""
        self.eval()
        self.requires_grad_(False)
        return self

    def load_checkpoint(self, path: str | Path) -> None:
        """Loads the backbone (and normalisation) weights from a lit-robust checkpoint, or from a file
        holding a plain ``state_dict`` of the backbone.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            RuntimeError: if the weights do not fit the backbone (the message lists the mismatched keys).
        """
        load_defended_weights(self, path)


def train_source(
    model: SourceModel,
    data: Batch,
    epochs: int,
    batch_size: int,
    lr: float,
    order: torch.Generator,
    device: torch.device,
    progress: bool = True,
) -> SourceModel:
    """Standard training of ``model`` (cross-entropy, Adam) on uint8 ``data``; returns it frozen.

    The batch order comes from ``order``; dropout uses the global RNG as in any training run
    (``seed_everything`` makes it repeatable).
    """
    images, labels = data
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = [(epoch, start) for epoch in range(epochs) for start in range(0, len(labels), batch_size)]
    permutation = torch.arange(len(labels))
    name = type(model.backbone).__name__
    for _, start in tqdm(steps, desc=f"training source {name}", disable=not progress):
        if start == 0:
            permutation = torch.randperm(len(labels), generator=order)
        index = permutation[start : start + batch_size]
        x, y = images[index].to(device).float().div_(255), labels[index].to(device)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.freeze()
