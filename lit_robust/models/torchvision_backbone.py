"""`TorchvisionBackbone`: any torchvision classification model by name, for the data's shape."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torchvision.models import get_model

from lit_robust.models.library_backbone import LibraryBackbone
from lit_robust.models.pretrained import adapt_input_channels

#: Name prefixes of the torchvision architectures whose position embeddings fix the input size.
FIXED_SIZE_PREFIXES = ("vit_",)


class TorchvisionBackbone(LibraryBackbone):
    """A torchvision model (``torchvision.models.get_model(name)``) for ``in_channels`` and ``num_classes``.

    Without ``weights`` the model is built with ``num_classes`` outputs; with ``weights`` (ImageNet's 1000
    classes) its last ``nn.Linear`` is replaced by a new one with ``num_classes`` outputs. A first
    convolution on another number of channels than ``in_channels`` is replaced by one on ``in_channels``,
    its (pretrained) kernel summed over RGB for one channel (:func:`~lit_robust.models.pretrained.
    adapt_input_channels`). ViTs get ``image_size=input_size``. ImageNet stems downsample 4x: on small
    images lit_robust's ``ResNet18``/``ResNet50`` keep more resolution.

    Args:
        name: a torchvision model name (``torchvision.models.list_models()``), for example ``"resnet18"``.
        weights: a torchvision weights name (``"DEFAULT"``, ``"IMAGENET1K_V1"``), which torchvision downloads
            on first use (network access needed), or ``None`` for a random initialisation.
        **kwargs: :class:`LibraryBackbone`'s ``in_channels``, ``num_classes``, ``input_size``,
            ``checkpoint_path``, ``model_kwargs`` (the torchvision builder's, ``{"dropout": 0.2}``...) and
            ``strict_weights``.
    """

    def __init__(self, name: str, weights: str | None = None, **kwargs: Any) -> None:
        self.name, self.weights = name, weights  # plain attributes, read by build() during super().__init__
        super().__init__(**kwargs)

    def build(self, in_channels: int, num_classes: int, input_size: int, kwargs: dict[str, Any]) -> nn.Module:
        if self.name.startswith(FIXED_SIZE_PREFIXES):
            kwargs.setdefault("image_size", input_size)
        if self.weights is None:
            kwargs.setdefault("num_classes", num_classes)
        model = get_model(self.name, weights=self.weights, **kwargs)
        if self.weights is not None:
            replace_head(model, num_classes)
        replace_stem(model, in_channels)
        return model


def replace_stem(model: nn.Module, in_channels: int) -> None:
    """Gives ``model``'s first ``nn.Conv2d`` ``in_channels`` inputs (its kernel adapted) if it has others."""
    name, conv = next(((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), ("", None))
    if conv is None or conv.in_channels == in_channels:
        return
    if conv.groups != 1:
        raise ValueError(f"Cannot change the input channels of {name}, a grouped convolution.")
    stem = nn.Conv2d(
        in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
        bias=conv.bias is not None, padding_mode=conv.padding_mode,
    )  # fmt: skip
    with torch.no_grad():
        stem.weight.copy_(adapt_input_channels(conv.weight, in_channels))
        if conv.bias is not None:
            stem.bias.copy_(conv.bias)
    _set_submodule(model, name, stem)


def replace_head(model: nn.Module, num_classes: int) -> None:
    """Replaces ``model``'s last ``nn.Linear`` by a new one with ``num_classes`` outputs if it has others."""
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(
            f"{type(model).__name__} has no nn.Linear head to give {num_classes} outputs: load the weights "
            "from a local file instead (checkpoint_path), into the model built for num_classes."
        )
    name, head = linears[-1]
    if head.out_features != num_classes:
        _set_submodule(model, name, nn.Linear(head.in_features, num_classes, bias=head.bias is not None))


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent), leaf, module)
