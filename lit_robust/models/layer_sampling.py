"""`LayerSampledEnsemble`: M copies of a backbone whose stages are recombined at random on every forward pass.

Random layer sampling (Lee et al., "Robust Ensemble Model Training via Random Layer Sampling Against
Adversarial Attack"): M sub-models of one structure, split into L stages, with different initialisations.
A sampled model takes stage l from sub-model ``path[l]``, drawn from a categorical distribution with
probabilities mu, so M sub-models give M^L sampled models.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn
from torchvision.models import ResNet

from lit_robust.models.vgg import VGG16


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
        return _group(list(backbone), lambda layer: any(True for _ in layer.parameters()), after=False)
    raise TypeError(
        f"Cannot split {type(backbone).__name__} into stages: use an nn.Sequential, a torchvision ResNet, "
        "VGG16, or give the backbone a stages() method returning its stages in order."
    )


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


def reinitialize(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """Redraws ``module``'s parameters by permuting the entries of each parameter tensor at random.

    When a backbone initialises each tensor with i.i.d. entries (PyTorch's defaults, Kaiming or normal
    initialisation, constants: every lit_robust backbone), a random permutation of a freshly initialised
    tensor is a new draw from the same distribution, so each copy gets a different initialisation from the
    backbone's own scheme without knowing its constructor. Buffers (BatchNorm statistics) are left as
    they are.
    """
    with torch.no_grad():
        for parameter in module.parameters():
            order = torch.randperm(parameter.numel(), generator=generator).to(parameter.device)
            parameter.copy_(parameter.flatten()[order].view_as(parameter))


class LayerSampledEnsemble(nn.Module):
    """M sub-models of ``backbone``'s structure; each forward pass runs one sampled path through their stages.

    Sub-model 0 is ``backbone`` itself, sub-models 1 to M-1 are copies with parameters redrawn by
    :func:`reinitialize`. ``path[l]`` names the sub-model whose stage ``l`` is used. Without a path, one
    path is drawn for the whole batch (the paper) or, with ``per_sample``, one per image; in training mode
    BatchNorm layers then see only the images routed through them. Paths are drawn from ``generator`` when
    given, else from the global RNG.

    Args:
        backbone: the sub-model structure (see :func:`split_stages` for how it is split).
        num_models: M, the number of sub-models (the paper uses 2).
        probabilities: mu, the categorical probabilities of the M sub-models (uniform when ``None``).
        per_sample: draw one path per image instead of one per batch.
        generator: source of the sampling randomness (and of the copies' initialisation).
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_models: int = 2,
        probabilities: list[float] | None = None,
        per_sample: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if num_models < 1:
            raise ValueError(f"num_models must be >= 1, got {num_models}.")
        mu = (
            torch.full((num_models,), 1.0 / num_models)
            if probabilities is None
            else torch.tensor(probabilities)
        )
        if mu.shape != (num_models,) or (mu < 0).any() or not torch.isclose(mu.sum(), torch.tensor(1.0)):
            raise ValueError(
                f"probabilities must be {num_models} non-negative numbers summing to 1, got {mu}."
            )
        models = [backbone]
        for _ in range(num_models - 1):
            models.append(copy.deepcopy(backbone))
            reinitialize(models[-1], generator)
        per_model = [split_stages(model) for model in models]
        #: ``layers[l][m]``: stage ``l`` of sub-model ``m``.
        self.layers = nn.ModuleList(nn.ModuleList(stages) for stages in zip(*per_model, strict=True))
        self.register_buffer("probabilities", mu, persistent=False)
        self.per_sample = per_sample
        self.generator = generator

    @property
    def num_models(self) -> int:
        return len(self.layers[0])

    @property
    def num_stages(self) -> int:
        return len(self.layers)

    @property
    def num_paths(self) -> int:
        """M^L, the number of distinct sampled models."""
        return self.num_models**self.num_stages

    def sample_paths(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` paths drawn from mu, shape ``(n, L)``, on the ensemble's device.

        Args:
            n: number of paths.
            generator: source of the draws; defaults to the ensemble's generator (else the global RNG).
        """
        draws = torch.multinomial(
            self.probabilities.cpu(),
            n * self.num_stages,
            replacement=True,
            generator=generator if generator is not None else self.generator,
        )
        return draws.view(n, self.num_stages).to(self.probabilities.device)

    def paths(self) -> Iterator[Tensor]:
        """Every one of the M^L paths, in lexicographic order."""
        for path in itertools.product(range(self.num_models), repeat=self.num_stages):
            yield torch.tensor(path, device=self.probabilities.device)

    def forward(self, x: Tensor, path: Tensor | None = None) -> Tensor:
        """Output of the sampled model ``path``: shape ``(L,)`` for the batch, ``(batch, L)`` per image.

        Without ``path``, one is drawn (per batch, or per image with ``per_sample``).
        """
        if path is None:
            path = self.sample_paths(len(x)) if self.per_sample else self.sample_paths(1)[0]
        if path.shape[-1] != self.num_stages:
            raise ValueError(
                f"A path has one entry per stage ({self.num_stages}), got shape {tuple(path.shape)}."
            )
        if path.dim() == 1:
            for stage, m in zip(self.layers, path.tolist(), strict=True):
                x = stage[m](x)
            return x
        for index, stage in enumerate(self.layers):
            x = self._route(stage, path[:, index], x)
        return x

    @staticmethod
    def _route(stage: nn.ModuleList, choice: Tensor, x: Tensor) -> Tensor:
        """Runs each image through the sub-model stage it chose; images keep their order."""
        outputs = {m: stage[m](x[choice == m]) for m in choice.unique().tolist()}
        first = next(iter(outputs.values()))
        out = first.new_empty(len(x), *first.shape[1:])
        for m, value in outputs.items():
            out[choice == m] = value
        return out


class SampledModel(nn.Module):
    """One sampled model of a :class:`LayerSampledEnsemble` with its path fixed (to attack it, for example).

    Args:
        ensemble: the ensemble (parameters shared, not copied).
        path: the sub-model of each stage, shape ``(L,)``.
    """

    def __init__(self, ensemble: LayerSampledEnsemble, path: Tensor) -> None:
        super().__init__()
        self.ensemble = ensemble
        self.register_buffer("path", path, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.ensemble(x, self.path)
