"""`TimmBackbone`: any timm model by name (the optional ``timm`` extra), for the data's shape."""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Any

from lit_robust.models.library_backbone import LibraryBackbone


class TimmBackbone(LibraryBackbone):
    """A timm model (``timm.create_model(name)``) with ``in_chans=in_channels`` and ``num_classes``.

    timm builds the stem for ``in_channels`` and the head for ``num_classes`` itself, adapting pretrained
    weights to both. Architectures whose position embeddings fix the input size (ViTs, timm's
    ``fixed_input_size``) get ``img_size=input_size``. Needs ``pip install "lit_robust[timm]"``.

    Args:
        name: a timm model name (``timm.list_models()``): ``"resnet18"``, ``"vit_tiny_patch16_224"``...
        pretrained: timm's pretrained weights, downloaded from the Hugging Face Hub on first use (network
            access needed).
        checkpoint_path: a local state dict or Lightning checkpoint loaded after building (weights-only).
        in_channels: channels of the input images (linked from the datamodule).
        num_classes: number of output logits (linked from the datamodule).
        input_size: side of the square input images (linked from the datamodule); used where the
            architecture fixes it.
        model_kwargs: further arguments of ``timm.create_model`` (``{"drop_rate": 0.1}``, ``{"depth": 2}``).
        strict_weights: raise unless ``checkpoint_path`` matches the model exactly (else warn).
    """

    def __init__(
        self,
        name: str,
        pretrained: bool = False,
        checkpoint_path: str | Path | None = None,
        in_channels: int = 3,
        num_classes: int = 1000,
        input_size: int = 224,
        model_kwargs: dict[str, Any] | None = None,
        strict_weights: bool = False,
    ) -> None:
        timm = _import_timm()
        kwargs = dict(model_kwargs or {})
        config = timm.get_pretrained_cfg(name)
        if config is not None and config.fixed_input_size:
            kwargs.setdefault("img_size", input_size)
        try:
            model = timm.create_model(
                name, pretrained=pretrained, in_chans=in_channels, num_classes=num_classes, **kwargs
            )
        except RuntimeError as error:
            if not str(error).startswith("Unknown model"):
                raise
            close = difflib.get_close_matches(name.split(".")[0], timm.list_models(), n=5)
            raise ValueError(f"timm has no model {name!r}; similar names: {close or 'none'}.") from error
        super().__init__(model, checkpoint_path, strict_weights)


def _import_timm() -> Any:
    try:
        return importlib.import_module("timm")
    except ImportError as error:
        message = 'TimmBackbone needs timm: pip install "lit_robust[timm]" (or pip install timm).'
        raise ImportError(message) from error
