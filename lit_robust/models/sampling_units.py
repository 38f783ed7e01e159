"""How a backbone splits into the units that random layer sampling draws independently.

A *sampling unit* is a group of a backbone's modules whose parameters (and buffers) a sampled model takes
from one sub-model. :func:`sampling_units` names them for any ``nn.Module``; ``LayerSampledEnsemble``
consumes the names, and so can any other code that needs a backbone's weight layers in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import nn
from torchvision.models import ResNet

from lit_robust.models.vgg import VGG16

Granularity = Literal["layer", "stage"]

#: Modules that start a layer unit: every convolution (1-3D, transposed, and subclasses) and linear layer.
WEIGHT_LAYERS: tuple[type[nn.Module], ...] = (nn.modules.conv._ConvNd, nn.Linear)
#: Modules that join the unit of the weight layer registered before them.
NORMALISATIONS: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,  # BatchNorm*, SyncBatchNorm, InstanceNorm* (and subclasses)
    nn.GroupNorm,
    nn.LayerNorm,
    nn.RMSNorm,
)


def sampling_units(backbone: nn.Module, granularity: Granularity = "layer") -> list[list[str]]:
    """The sampling units of ``backbone``, in order: each a list of qualified module names.

    Only modules that own parameters directly are named (``backbone.get_submodule(name)`` finds each);
    every such module is in exactly one unit. Parameter-free modules (activations, pooling, dropout) are
    never named: they have nothing to sample.

    - ``"layer"`` (the paper's random layer sampling): one unit per weight layer, that is each
      convolution (``nn.Conv1d/2d/3d``, transposed convolutions, any subclass such as ``Conv2dSame`` or
      timm's ``StdConv2d``) and each ``nn.Linear`` (and subclasses), together with the normalisation
      layers (``BatchNorm*``, ``SyncBatchNorm``, ``InstanceNorm*``, ``GroupNorm``, ``LayerNorm``,
      ``RMSNorm`` and subclasses) registered after it and before the next weight layer; normalisations
      registered before the first weight layer join the first unit. Registration order
      (``named_modules``) is the order of forward execution in torchvision's and timm's convolutional
      networks and in every lit_robust backbone, so a batch norm joins the convolution it normalises
      (post-activation ResNets, VGG); in pre-activation networks (``WideResNet``) it joins the weight
      layer before it, whose output it normalises. This splits any network built from these layers:
      every lit_robust backbone, torchvision's ResNets, VGGs, MobileNets and EfficientNets, and timm's
      convolutional networks.
    - ``"stage"``: one unit per stage of :func:`split_stages` (torchvision ResNets and ``VGG16``: 6;
      ``nn.Sequential``: one per layer with parameters; or a ``stages()`` method of the backbone).

    Args:
        backbone: the network to split.
        granularity: ``"layer"`` (the default, the paper's) or ``"stage"``.

    Raises:
        TypeError: with ``"layer"``, if a module that is neither a weight layer nor a normalisation owns
            parameters directly (``nn.Embedding``, ``nn.PReLU``, ``nn.MultiheadAttention``'s input
            projection, a vision transformer's class token or position embedding, a custom layer); the
            message names it. With ``"stage"``, for a backbone :func:`split_stages` cannot split.
        ValueError: if ``backbone`` has no parameters at all, or its stages miss some of them.
    """
    if granularity == "layer":
        units = _layer_units(backbone)
    elif granularity == "stage":
        units = _stage_units(backbone)
    else:
        raise ValueError(f"granularity must be 'layer' or 'stage', got {granularity!r}.")
    if not units:
        raise ValueError(f"{type(backbone).__name__} has no parameters to sample.")
    return units


def _owns_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _layer_units(backbone: nn.Module) -> list[list[str]]:
    units: list[list[str]] = []
    leading: list[str] = []  # normalisations before the first weight layer
    for name, module in backbone.named_modules():
        if not _owns_parameters(module):
            continue
        if isinstance(module, WEIGHT_LAYERS):
            units.append([*leading, name])
            leading = []
        elif isinstance(module, NORMALISATIONS):
            (units[-1] if units else leading).append(name)
        else:
            raise TypeError(
                f"Cannot split {type(backbone).__name__} into layers: {name or 'the backbone'} "
                f"({type(module).__name__}) owns parameters but is neither a convolution or linear layer "
                "nor a normalisation. Use granularity='stage' or give the backbone a stages() method."
            )
    if leading:
        raise TypeError(
            f"Cannot split {type(backbone).__name__} into layers: it has normalisations ({leading}) but no "
            "convolution or linear layer."
        )
    return units


def _stage_units(backbone: nn.Module) -> list[list[str]]:
    names = {id(module): name for name, module in backbone.named_modules()}
    units = [
        [names[id(module)] for module in stage.modules() if _owns_parameters(module)]
        for stage in split_stages(backbone)
    ]
    named = {name for unit in units for name in unit}
    missing = [name for name, m in backbone.named_modules() if _owns_parameters(m) and name not in named]
    if missing:
        raise ValueError(
            f"The stages of {type(backbone).__name__} leave out modules with parameters: {missing}."
        )
    return [unit for unit in units if unit]


def split_stages(backbone: nn.Module) -> list[nn.Module]:
    """The stages of ``backbone``, in order, whose composition is its forward pass; they share its parameters.

    - A backbone with a ``stages()`` method: what it returns.
    - torchvision ``ResNet`` (``ResNet18``, ``ResNet50``): the stem, ``layer1`` to ``layer4`` and the head
      (average pool, flatten, ``fc``), 6 stages: torchvision's stages.
    - ``VGG16``: the five convolution blocks (each ending in its max-pool) and the head, 6 stages.
    - ``nn.Sequential`` (``PRBasicCNN``, ``LeNet5``, ``MLP``, ...): one stage per layer with parameters, the
      parameter-free layers that follow it (activation, pooling, flatten, dropout) joined to it; leading
      parameter-free layers join the first stage.

    Raises:
        TypeError: for any other backbone (give it a ``stages()`` method).
    """
    if hasattr(backbone, "stages"):
        return list(backbone.stages())
    if isinstance(backbone, ResNet):
        stem = nn.Sequential(backbone.conv1, backbone.bn1, backbone.relu, backbone.maxpool)
        head = nn.Sequential(backbone.avgpool, nn.Flatten(), backbone.fc)
        return [stem, backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4, head]
    if isinstance(backbone, VGG16):
        blocks = _group(list(backbone.features), lambda layer: isinstance(layer, nn.MaxPool2d), after=True)
        return [*blocks, nn.Sequential(backbone.avgpool, nn.Flatten(), backbone.classifier)]
    if isinstance(backbone, nn.Sequential):
        return _group(list(backbone), _owns_any_parameters, after=False)
    raise TypeError(
        f"Cannot split {type(backbone).__name__} into stages: use an nn.Sequential, a torchvision ResNet, "
        "VGG16, or give the backbone a stages() method returning its stages in order."
    )


def _owns_any_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def _group(layers: list[nn.Module], is_boundary: Callable[[nn.Module], bool], after: bool) -> list[nn.Module]:
    """Groups ``layers`` into ``nn.Sequential`` stages that end at (``after``) or start at each boundary."""
    stages: list[list[nn.Module]] = [[]]
    for layer in layers:
        boundary = is_boundary(layer)
        if boundary and not after and any(is_boundary(m) for m in stages[-1]):
            stages.append([])
        stages[-1].append(layer)
        if boundary and after:
            stages.append([])
    return [nn.Sequential(*stage) for stage in stages if stage]
