"""Weights of a lit_robust checkpoint for a :class:`~lit_robust.models.DefendedModel`, loaded weights-only.

A defense's checkpoint holds its defended model under ``model.`` (``model.normalize.*``,
``model.backbone.*``, ``model.transform.*``); checkpoints of the earlier layout hold the same parts at the
top level (``normalize.*``, ``backbone.*``). :func:`defended_state_dict` takes either to the model's own
names, and :func:`load_defended_weights` loads a checkpoint (or a plain backbone state dict) into a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from torch import Tensor, nn

from lit_robust.models.pretrained import read_state_dict

PARTS = ("transform.", "normalize.", "backbone.")
"""The key prefixes of a :class:`~lit_robust.models.DefendedModel`'s state dict."""


def defended_state_dict(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The defended model's entries of a defense's ``state_dict``, named as in a ``DefendedModel``.

    Entries under ``model.`` (the current layout) when there are any, else the top-level ``normalize.*``,
    ``backbone.*`` and ``transform.*`` entries (the earlier layout); empty when the state has neither.
    """
    current = {key.removeprefix("model."): value for key, value in state.items() if key.startswith("model.")}
    chosen = current if any(key.startswith(PARTS) for key in current) else state
    return {key: value for key, value in chosen.items() if key.startswith(PARTS)}


def load_defended_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Loads a lit_robust checkpoint's defended model (either layout) into ``model``, or, when the file is a
    plain state dict of the backbone, that state into ``model.backbone``; returns ``model``.

    Args:
        model: a :class:`~lit_robust.models.DefendedModel` (or any module with ``normalize`` and ``backbone``
            parts, named so).
        path: a Lightning checkpoint or a state-dict file, read with ``weights_only=True``.

    Raises:
        FileNotFoundError: if ``path`` is not a file.
        ValueError: if the file is not a weights-only state dict or checkpoint.
        RuntimeError: if the weights do not fit (the message lists the mismatched keys).
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist (or is not a file).")
    state = read_state_dict(path)
    defended = defended_state_dict(state)
    if defended:
        model.load_state_dict(defended)
    else:
        model.backbone.load_state_dict(state)
    return model
