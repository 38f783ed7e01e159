"""`LayerSampledEnsemble`: M copies of a backbone whose layers are recombined at random on every forward pass.

Random layer sampling (Lee et al., "Robust Ensemble Model Training via Random Layer Sampling Against
Adversarial Attack"): M sub-models of one structure with L layers, with different initialisations. A
sampled model takes layer l from sub-model ``path[l]``, drawn from a categorical distribution with
probabilities mu, so M sub-models give M^L sampled models.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call

from lit_robust.models.sampling_units import Granularity, sampling_units


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
    """M sub-models of ``backbone``'s structure; each forward pass runs one sampled model through their units.

    Sub-model 0 is ``backbone`` itself, sub-models 1 to M-1 are copies with parameters redrawn by
    :func:`reinitialize`. The backbone is split into L sampling units by
    :func:`~lit_robust.models.sampling_units`: by default one per convolution or linear layer with its
    normalisation (the paper's random layer sampling: ResNet-50 has 54 layer units, so 2^54 sampled
    models with M=2), or, with ``granularity="stage"``, one per stage (ResNet-50 and VGG-16: 6, so 64).
    ``path[l]`` names the sub-model whose unit ``l`` (its parameters and buffers, BatchNorm statistics
    included) the sampled model uses; the forward pass is the backbone's own, run with those tensors
    (``torch.func.functional_call``), so any backbone that :func:`~lit_robust.models.sampling_units` splits
    works, residual connections included. Without a path, one path is drawn for the whole batch (the paper)
    or, with ``per_sample``, one per image (one forward pass per distinct path: with layer units, one per
    image); in training mode BatchNorm layers then see only the images routed through them. Paths are
    drawn from ``generator`` when given, else from the global RNG.

    Args:
        backbone: the sub-model structure.
        num_models: M, the number of sub-models (the paper uses 2).
        probabilities: mu, the categorical probabilities of the M sub-models (uniform when ``None``).
        per_sample: draw one path per image instead of one per batch.
        granularity: ``"layer"`` (the paper: each convolution or linear layer with its normalisation) or
            ``"stage"`` (see :func:`~lit_robust.models.split_stages`).
        generator: source of the sampling randomness (and of the copies' initialisation).
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_models: int = 2,
        probabilities: list[float] | None = None,
        per_sample: bool = False,
        granularity: Granularity = "layer",
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
        #: ``units[l]``: the qualified names of the modules of sampling unit ``l``.
        self.units = sampling_units(backbone, granularity)
        models = [backbone]
        for _ in range(num_models - 1):
            models.append(copy.deepcopy(backbone))
            reinitialize(models[-1], generator)
        #: ``models[m]``: sub-model ``m`` (``models[0]`` is the backbone).
        self.models = nn.ModuleList(models)
        self.register_buffer("probabilities", mu, persistent=False)
        self.per_sample = per_sample
        self.generator = generator

    @property
    def num_models(self) -> int:
        return len(self.models)

    @property
    def num_units(self) -> int:
        """L, the number of sampling units (layers, or stages)."""
        return len(self.units)

    @property
    def num_paths(self) -> int:
        """M^L, the number of distinct sampled models."""
        return self.num_models**self.num_units

    def sample_paths(
        self, n: int, generator: torch.Generator | None = None, distinct: bool = False
    ) -> Tensor:
        """``n`` paths drawn from mu, shape ``(n, L)``, on the ensemble's device.

        Args:
            n: number of paths.
            generator: source of the draws; defaults to the ensemble's generator (else the global RNG).
            distinct: draw until ``n`` different paths are found (in the order first drawn), as when
                comparing ``n`` distinct sampled models.

        Raises:
            ValueError: if ``distinct`` and there are fewer than ``n`` paths of non-zero probability.
        """
        generator = generator if generator is not None else self.generator
        if not distinct:
            return self._draw(n, generator)
        reachable = int((self.probabilities > 0).sum()) ** self.num_units
        if n > reachable:
            raise ValueError(f"Cannot draw {n} distinct paths: the ensemble has {reachable} of non-zero mu.")
        chosen: dict[tuple[int, ...], None] = {}
        while len(chosen) < n:
            for path in self._draw(n, generator).tolist():
                chosen.setdefault(tuple(path))
        return torch.tensor(list(chosen)[:n], device=self.probabilities.device)

    def _draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        draws = torch.multinomial(
            self.probabilities.cpu(), n * self.num_units, replacement=True, generator=generator
        )
        return draws.view(n, self.num_units).to(self.probabilities.device)

    def paths(self) -> Iterator[Tensor]:
        """Every one of the M^L paths, in lexicographic order (only sensible for small L)."""
        for path in itertools.product(range(self.num_models), repeat=self.num_units):
            yield torch.tensor(path, device=self.probabilities.device)

    def forward(self, x: Tensor, path: Tensor | None = None) -> Tensor:
        """Output of the sampled model ``path``: shape ``(L,)`` for the batch, ``(batch, L)`` per image.

        Without ``path``, one is drawn (per batch, or per image with ``per_sample``).
        """
        if path is None:
            path = self.sample_paths(len(x)) if self.per_sample else self.sample_paths(1)[0]
        if path.shape[-1] != self.num_units:
            raise ValueError(
                f"A path has one entry per sampling unit ({self.num_units}), got shape {tuple(path.shape)}."
            )
        if path.dim() == 1:
            return functional_call(self.models[0], self._tensors(path.tolist()), (x,))
        distinct, which = path.unique(dim=0, return_inverse=True)
        outputs = [self(x[which == index], row) for index, row in enumerate(distinct)]
        out = outputs[0].new_empty(len(x), *outputs[0].shape[1:])
        for index, value in enumerate(outputs):
            out[which == index] = value
        return out

    def _tensors(self, path: list[int]) -> dict[str, Tensor]:
        """The parameters and buffers that sub-models other than 0 give ``path``, by qualified name."""
        tensors: dict[str, Tensor] = {}
        for unit, m in zip(self.units, path, strict=True):
            if m == 0:
                continue
            for name in unit:
                module = self.models[m].get_submodule(name)
                prefix = f"{name}." if name else ""
                owned = itertools.chain(
                    module.named_parameters(recurse=False), module.named_buffers(recurse=False)
                )
                tensors.update((prefix + key, tensor) for key, tensor in owned)
        return tensors


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
