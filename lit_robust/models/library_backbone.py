"""`LibraryBackbone`: the base of the adapters that build another library's model by name for the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor, nn

from lit_robust.models.pretrained import load_weights
from lit_robust.models.sampling_units import split_stages


class LibraryBackbone(nn.Module):
    """A model built by another library for the data's shape (``self.model``), with optional local weights.

    Subclasses implement :meth:`build`. The weights file's keys are those of ``self.model`` (a torchvision
    or timm state dict), of this adapter, or of a lit_robust checkpoint (``backbone.model.*``):
    :func:`~lit_robust.models.load_weights` finds the prefix, adapts the first convolution to the input
    channels and reports what it could not load.

    Args:
        in_channels: channels of the input images (linked from the datamodule).
        num_classes: number of output logits (linked from the datamodule).
        input_size: side of the square input images (linked from the datamodule); used by architectures
            whose position embeddings fix it (ViTs).
        checkpoint_path: a local state dict or Lightning checkpoint loaded after building (weights-only).
        model_kwargs: further arguments of the library's model builder.
        strict_weights: raise unless ``checkpoint_path`` matches the model exactly (else warn).
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 1000,
        input_size: int = 224,
        checkpoint_path: str | Path | None = None,
        model_kwargs: dict[str, Any] | None = None,
        strict_weights: bool = False,
    ) -> None:
        super().__init__()
        self.model = self.build(in_channels, num_classes, input_size, dict(model_kwargs or {}))
        if checkpoint_path is not None:
            load_weights(self.model, checkpoint_path, strict=strict_weights)

    def build(self, in_channels: int, num_classes: int, input_size: int, kwargs: dict[str, Any]) -> nn.Module:
        """The library's model for the data's shape; ``kwargs`` are the builder's further arguments."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def stages(self) -> list[nn.Module]:
        """The wrapped model's stages (random layer sampling's ``granularity="stage"``): see ``split_stages``.

        Raises:
            TypeError: the wrapped model's ``stages`` attribute is a module (timm's blocks, without stem and
                head), or :func:`~lit_robust.models.split_stages` does not know the architecture.
        """
        if isinstance(getattr(self.model, "stages", None), nn.Module):
            raise TypeError(
                f"Cannot split {type(self.model).__name__} into stages: its `stages` module holds the blocks "
                "without stem and head. Use granularity='layer' if its layers are all convolutions, linear "
                "layers and normalisations."
            )
        return split_stages(self.model)
