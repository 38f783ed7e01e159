"""`LibraryBackbone`: the base of the adapters that build a model of another library by name."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn

from lit_robust.models.pretrained import load_weights
from lit_robust.models.sampling_units import split_stages


class LibraryBackbone(nn.Module):
    """A model built by another library (``self.model``), with weights from a local file loaded into it.

    The file's keys are those of ``self.model`` (a torchvision or timm state dict), of this adapter, or of
    a lit_robust checkpoint (``backbone.model.*``): :func:`~lit_robust.models.pretrained.load_weights` finds
    the prefix, adapts the first convolution to the input channels and reports what it could not load.

    Args:
        model: the built model, returning logits.
        checkpoint_path: a local state dict or Lightning checkpoint to load into ``model``, or ``None``.
        strict_weights: raise unless the file matches ``model`` exactly (else warn about what did not).
    """

    def __init__(self, model: nn.Module, checkpoint_path: str | Path | None, strict_weights: bool) -> None:
        super().__init__()
        self.model = model
        if checkpoint_path is not None:
            load_weights(model, checkpoint_path, strict=strict_weights)

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
