"""`TimmBackbone`: any timm model by name (the optional ``timm`` extra), for the data's shape."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from torch import nn

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
        **kwargs: :class:`LibraryBackbone`'s ``in_channels``, ``num_classes``, ``input_size``,
            ``checkpoint_path``, ``model_kwargs`` (``timm.create_model``'s, ``{"drop_rate": 0.1}``...) and
            ``strict_weights``.
    """

    def __init__(self, name: str, pretrained: bool = False, **kwargs: Any) -> None:
        self.name, self.pretrained = name, pretrained  # plain attributes, read by build() in super().__init__
        super().__init__(**kwargs)

    def build(self, in_channels: int, num_classes: int, input_size: int, kwargs: dict[str, Any]) -> nn.Module:
        timm = _import_timm()
        config = timm.get_pretrained_cfg(self.name)
        if config is not None and config.fixed_input_size:
            kwargs.setdefault("img_size", input_size)
        try:
            return timm.create_model(
                self.name, pretrained=self.pretrained, in_chans=in_channels, num_classes=num_classes, **kwargs
            )
        except RuntimeError as error:
            if not str(error).startswith("Unknown model"):
                raise
            close = difflib.get_close_matches(self.name.split(".")[0], timm.list_models(), n=5)
            raise ValueError(f"timm has no model {self.name!r}; similar names: {close or 'none'}.") from error


def _import_timm() -> Any:
    try:
        return importlib.import_module("timm")
    except ImportError as error:
        message = 'TimmBackbone needs timm: pip install "lit_robust[timm]" (or pip install timm).'
        raise ImportError(message) from error
