"""Cheap checks of the arguments of lit_robust's public entry points (pure torch, no Lightning).

Each check raises before any work, with one message that names the argument, says what was given and what
is allowed. Tensor checks cost one pass over the tensor and one host synchronisation at most, once per call
(never per attack step). Called by every attack's ``__call__`` (:class:`lit_robust.attacks.Attack`),
``evaluate_robustness``, the evaluation callbacks' constructors and the metrics' ``update``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Real

import torch
from torch import Tensor

IMAGE_LAYOUT = "(N, C, H, W) images (or (N, D) features)"


def check_int(name: str, value: object, minimum: int) -> None:
    """Raises a ValueError naming ``name`` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def check_number(
    name: str,
    value: object,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_none: bool = False,
) -> None:
    """Raises a ValueError naming ``name`` unless ``value`` is a finite real number in [minimum, maximum]
    (or ``None`` where that is allowed); strings, lists, booleans, NaN and infinities are rejected."""
    if value is None and allow_none:
        return
    bounds = (
        f"in [{minimum}, {maximum}]"
        if maximum is not None
        else f">= {minimum}"
        if minimum is not None
        else ""
    )
    allowed = f"a finite number {bounds}".rstrip() + (" or None" if allow_none else "")
    is_number = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if (
        not is_number
        or (minimum is not None and value < minimum)  # type: ignore[operator]
        or (maximum is not None and value > maximum)  # type: ignore[operator]
    ):
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")


def check_tensor(name: str, value: object) -> Tensor:
    """Returns ``value`` when it is a tensor; raises a TypeError naming ``name`` otherwise."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}.")
    return value


def check_images(x: object, name: str = "x", allow_uint8: bool = False) -> Tensor:
    """Checks a batch of images: a float tensor in [0, 1] (or uint8 where allowed), ``(N, C, H, W)`` or flat
    ``(N, D)``, channels first, no NaN or infinite pixels. Returns it."""
    x = check_tensor(name, x)
    allowed_dtypes = "a float tensor in [0, 1]" + (" or uint8 in [0, 255]" if allow_uint8 else "")
    if not (x.is_floating_point() or (allow_uint8 and x.dtype == torch.uint8)):
        raise TypeError(f"{name} must be {allowed_dtypes}, got dtype {x.dtype}.")
    if x.dim() not in (2, 4):
        hint = " (add the channel dimension: x.unsqueeze(1))" if x.dim() == 3 else ""
        raise ValueError(f"{name} must be a batch of {IMAGE_LAYOUT}, got shape {tuple(x.shape)}{hint}.")
    if x.dim() == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} looks channels-last (N, H, W, C), got shape {tuple(x.shape)}: lit_robust takes channels "
            "first, x.permute(0, 3, 1, 2)."
        )
    if x.is_floating_point() and x.numel():
        outside = ~((x >= 0) & (x <= 1))  # NaN fails both comparisons
        if outside.any():
            non_finite = int((~torch.isfinite(x)).sum())
            finite = x[torch.isfinite(x)]
            span = f"[{finite.min().item():.3g}, {finite.max().item():.3g}]" if finite.numel() else "none"
            raise ValueError(
                f"{name} must lie in [0, 1] (pixel space; normalisation belongs inside the model), got "
                f"{non_finite} NaN or infinite values and finite values in {span}."
            )
    return x


def check_labels(y: object, batch: int | None, name: str = "y") -> Tensor:
    """Checks class-index labels: an integer tensor of shape ``(batch,)`` (any length for ``None``) with
    values >= 0. Returns it."""
    y = check_tensor(name, y)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool or y.dim() != 1:
        raise ValueError(
            f"{name} must be an integer class-index tensor of shape (batch,), got dtype {y.dtype} and shape "
            f"{tuple(y.shape)}" + (" (use y.squeeze(1))" if y.dim() == 2 and y.shape[1] == 1 else "") + "."
        )
    if batch is not None and y.shape[0] != batch:
        raise ValueError(f"{name} has batch size {y.shape[0]} but the images have {batch}.")
    if y.numel() and y.min() < 0:
        raise ValueError(f"{name} must hold class indices >= 0, got {y.min().item()}.")
    return y


SHAPE_ERROR_WORDS = ("shape", "size", "channels", "dimension", "mat1")
"""Words of torch's messages for a batch a layer cannot take."""


def raise_if_shape_error(error: RuntimeError, x: Tensor) -> None:
    """Raises the ``ValueError`` naming ``x`` when ``error`` (from the model's forward pass on ``x``) says
    the model cannot take a batch of that shape; returns for any other error."""
    if any(word in str(error) for word in SHAPE_ERROR_WORDS):
        raise ValueError(f"x of shape {tuple(x.shape)} does not fit the model: {error}") from error


def check_logits(logits: Tensor, batch: int) -> None:
    """Raises a ValueError unless the model's ``logits`` have shape ``(batch, classes)``."""
    if logits.dim() != 2 or logits.shape[0] != batch:
        raise ValueError(
            f"the model must return logits of shape (batch, classes), got {tuple(logits.shape)} for a batch "
            f"of {batch}."
        )


def check_labels_below(y: Tensor, classes: int, name: str = "y") -> None:
    """Raises a ValueError unless every label is below the model's number of ``classes``."""
    if y.numel() and y.max() >= classes:
        raise ValueError(
            f"{name} holds labels up to {y.max().item()} but the model returns {classes} classes."
        )


def check_batch(x: object, y: object, allow_uint8: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`check_images` and :func:`check_labels` of one batch."""
    x = check_images(x, allow_uint8=allow_uint8)
    return x, check_labels(y, x.shape[0])


def check_epsilons(epsilons: object, name: str = "epsilons") -> None:
    """``None``, a list of epsilons, or a mapping from norm or attack names to lists of epsilons."""
    if epsilons is None:
        return
    lists = epsilons.items() if isinstance(epsilons, Mapping) else [(None, epsilons)]
    for key, values in lists:
        label = name if key is None else f"{name}[{key!r}]"
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ValueError(f"{label} must be a list of numbers >= 0, got {values!r}.")
        for value in values:
            check_number(f"{label} entries", value, minimum=0)


def check_attacks(attacks: object, name: str = "attacks") -> None:
    """A mapping from names (strings) to attacks (callables ``(model, x, y) -> x_adv``)."""
    if not isinstance(attacks, Mapping):
        raise TypeError(
            f"{name} must be a mapping from names to attacks, e.g. {{'pgd': PGD(0.1)}}, got "
            f"{type(attacks).__name__}."
        )
    for key, attack in attacks.items():
        if not isinstance(key, str) or not callable(attack):
            raise TypeError(f"{name}[{key!r}] must be a callable attack under a string name, got {attack!r}.")


def check_evaluation_settings(
    attacks: object,
    epsilons: object,
    batch_size: object,
    tolerance: object,
    seed: object,
) -> None:
    """The settings shared by ``evaluate_robustness`` and the evaluation callbacks."""
    check_attacks(attacks)
    check_epsilons(epsilons)
    check_int("batch_size", batch_size, 1)
    check_number("tolerance", tolerance, minimum=0, maximum=1)
    if seed is not None:
        check_int("seed", seed, 0)


def check_callback_settings(
    attacks: object,
    epsilons: object,
    every_n_epochs: object,
    num_samples: object,
    batch_size: object,
    tolerance: object,
    seed: object,
    num_images: object,
) -> None:
    """The constructor arguments of the robustness evaluation callbacks."""
    check_evaluation_settings(attacks, epsilons, batch_size, tolerance, seed)
    check_int("every_n_epochs", every_n_epochs, 1)
    check_int("num_samples", num_samples, 1)
    check_int("num_images", num_images, 0)


def checked_evaluation_data(
    x: Tensor | Iterable[tuple[Tensor, Tensor]], y: Tensor | None
) -> Tensor | Iterable[tuple[Tensor, Tensor]]:
    """``evaluate_robustness``'s data, checked: a tensor ``x`` (and ``y``) at once, the batches of an
    iterable as they are drawn. Labels beyond the model's classes are caught where the evaluation first
    computes logits (:func:`check_labels_below`)."""
    if not isinstance(x, Tensor):
        if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
            raise TypeError(f"x must be an image tensor or an iterable of (images, labels), got {x!r}.")
        return _checked_batches(x)
    x, y = check_batch(x, y, allow_uint8=True)
    if not x.shape[0]:
        raise ValueError(f"x is empty (shape {tuple(x.shape)}): there is nothing to evaluate.")
    return x


def _checked_batches(batches: Iterable[tuple[Tensor, Tensor]]) -> Iterator[tuple[Tensor, Tensor]]:
    count = 0
    for count, batch in enumerate(batches, 1):
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"x must yield (images, labels) pairs, batch {count} is {type(batch).__name__}.")
        yield check_batch(*batch, allow_uint8=True)
    if not count:
        raise ValueError("x yielded no batches: there is nothing to evaluate.")


def check_checkpoint_file(path: object, name: str = "ckpt_path") -> None:
    """Raises a ValueError naming ``name`` unless the existing local file ``path`` is a Lightning checkpoint
    that loads with ``weights_only=True``. Lightning's keywords (``last``, ``best``, ``hpc``), ``None``,
    URLs and missing files (Lightning reports those itself) are left alone. The check memory-maps the file,
    so it does not read the weights twice."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        return
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # truncated, not a torch file, or holding objects weights_only refuses
        raise ValueError(
            f"{name} {os.fspath(path)!r} is not a readable checkpoint (truncated, not made by torch.save, or "
            f"holding objects that safe loading refuses): {str(error).splitlines()[0]}"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(
            f"{name} {os.fspath(path)!r} is a torch file but not a Lightning checkpoint (no 'state_dict'): "
            "pass a .ckpt written by lit-robust fit (ModelCheckpoint) or by trainer.save_checkpoint."
        )
