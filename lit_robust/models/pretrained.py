"""Pretrained weights from a local file: a state dict or a Lightning checkpoint, read weights-only.

:func:`load_weights` matches the file's tensors to a module by name, after removing (or adding) the key
prefix that makes the most names match, such as ``backbone.model.`` in a lit_robust checkpoint or DDP's
``module.``. It adapts the first convolution if it was trained on another number of input channels, and
reports what it could not load: missing keys (in the module, not in the file), unexpected keys (in the file,
not in the module) and tensors whose shapes differ (a replaced classification head, typically).
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn


@dataclass
class WeightsReport:
    """What :func:`load_weights` did with a file.

    Attributes:
        loaded: module keys set from the file.
        adapted: the subset of ``loaded`` whose input channels were adapted (see
            :func:`adapt_input_channels`).
        missing: module keys the file does not have; they keep their initialisation.
        unexpected: file keys the module does not have; ignored.
        mismatched: ``key: file shape -> module shape`` of tensors left at their initialisation.
    """

    loaded: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every tensor of the module came from the file and the file had nothing else."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, path: str | Path) -> str:
        """A few lines naming the keys that were not loaded, for a warning or an error."""
        adapted = f" ({len(self.adapted)} adapted to the input channels)" if self.adapted else ""
        lines = [f"{path}: loaded {len(self.loaded)} tensors{adapted}."]
        for title, keys in (
            ("missing from the file (left at their initialisation)", self.missing),
            ("unexpected in the file (ignored)", self.unexpected),
            ("of another shape in the file (left at their initialisation)", self.mismatched),
        ):
            if keys:
                shown = ", ".join(keys[:8]) + (f", ... ({len(keys) - 8} more)" if len(keys) > 8 else "")
                lines.append(f"  {len(keys)} {title}: {shown}")
        return "\n".join(lines)


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The tensors of a state-dict file or of a Lightning checkpoint's ``state_dict``, loaded weights-only.

    Raises:
        ValueError: the file is not a weights-only torch file (a pickled module, for example) or holds no
            dictionary of tensors.
    """
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError) as error:
        problem = str(error).splitlines()[0]
    else:
        problem = None
    if problem is not None:  # raised outside the ``except``: the CLI prints the innermost error's message
        raise ValueError(
            f"Cannot read {path} weights-only ({problem}). Save the weights as a state dict: "
            "torch.save(model.state_dict(), path)."
        )
    if isinstance(content, dict) and isinstance(content.get("state_dict"), dict):
        content = content["state_dict"]
    if not isinstance(content, dict) or not any(isinstance(v, Tensor) for v in content.values()):
        raise ValueError(
            f"{path} is neither a state dict nor a Lightning checkpoint: expected a dictionary of tensors "
            f"(torch.save(model.state_dict(), path)), got {type(content).__name__}."
        )
    return {key: value for key, value in content.items() if isinstance(value, Tensor)}


def adapt_input_channels(weight: Tensor, in_channels: int) -> Tensor:
    """A convolution ``weight`` (``out, in, *kernel``) trained on other input channels, for ``in_channels``.

    One channel: the sum over the trained channels (a grey image as R = G = B gives the same response).
    Otherwise the trained channels repeated cyclically and rescaled by ``trained / in_channels`` (timm's
    ``adapt_input_conv``), which keeps the response to a constant image when ``in_channels`` is a multiple
    of the trained channels, and its scale roughly otherwise.
    """
    trained = weight.shape[1]
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    repeats = -(-in_channels // trained)
    return weight.repeat(1, repeats, *([1] * (weight.dim() - 2)))[:, :in_channels] * (trained / in_channels)


def load_weights(module: nn.Module, path: str | Path, strict: bool = False) -> WeightsReport:
    """Loads the tensors of the file ``path`` into ``module`` by name and reports what did not fit.

    Args:
        module: the module to load into.
        path: a state-dict file or a Lightning checkpoint (``torch.load(..., weights_only=True)``).
        strict: raise unless every tensor of the module came from the file and the file had nothing else;
            otherwise a ``UserWarning`` lists what was not loaded.

    Raises:
        ValueError: no tensor of the file fits the module (the file is for another architecture), or,
            with ``strict``, the report is not complete.
    """
    target = module.state_dict()
    source = _strip_prefix(read_state_dict(path), set(target))
    stem = next((key for key, value in target.items() if value.dim() >= 3), None)  # the first convolution
    report = WeightsReport(
        missing=[k for k in target if k not in source], unexpected=[k for k in source if k not in target]
    )
    loadable: dict[str, Tensor] = {}
    for key, value in source.items():
        if key not in target:
            continue
        expected = target[key]
        if key == stem and _differs_in_input_channels(value, expected):
            value = adapt_input_channels(value, expected.shape[1])
            report.adapted.append(key)
        if value.shape == expected.shape:
            loadable[key] = value
            report.loaded.append(key)
        else:
            report.mismatched.append(f"{key}: {list(value.shape)} -> {list(expected.shape)}")
    if not report.loaded:
        raise ValueError(
            f"No tensor of {path} fits {type(module).__name__}: is the file for another architecture?\n"
            + report.summary(path)
        )
    if strict and not report.complete:
        name = type(module).__name__
        raise ValueError(f"{path} does not match {name} exactly (strict=True):\n" + report.summary(path))
    module.load_state_dict(loadable, strict=False)
    if not report.complete:
        warnings.warn(report.summary(path), UserWarning, stacklevel=2)
    return report


def _differs_in_input_channels(value: Tensor, expected: Tensor) -> bool:
    """Whether two convolution weights differ in their input-channel dimension only."""
    return (
        value.dim() == expected.dim() >= 3
        and value.shape[1] != expected.shape[1]
        and value.shape[0] == expected.shape[0]
        and value.shape[2:] == expected.shape[2:]
    )


def _strip_prefix(state: dict[str, Tensor], names: set[str]) -> dict[str, Tensor]:
    """``state`` renamed by the key prefix that makes the most of its keys ``names``.

    A prefix of the file's keys is removed (``backbone.model.`` in a lit_robust checkpoint, ``module.``
    from DDP) or a prefix of the module's keys added; on a tie the keys are kept as they are. Keys outside a
    removed prefix (the defense's other modules in its checkpoint) are dropped, not reported as unexpected.
    """
    options = [state]
    for prefix in sorted(_prefixes(state)):
        options.append({k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)})
    options += [{prefix + k: v for k, v in state.items()} for prefix in sorted(_prefixes(names))]
    return max(options, key=lambda option: sum(k in names for k in option))


def _prefixes(keys: Iterable[str]) -> set[str]:
    """Every leading part of the dotted ``keys``, with its final dot (``a.`` and ``a.b.`` of ``a.b.c``)."""
    prefixes = set()
    for key in keys:
        parts = key.split(".")
        prefixes.update(".".join(parts[:n]) + "." for n in range(1, len(parts)))
    return prefixes
