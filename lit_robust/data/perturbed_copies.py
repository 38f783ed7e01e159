"""`PerturbedCopies`: N clean images and K constant perturbed copies of each, composed batch by batch.

The copies are not stored as images: each perturbation is stored as an integer code on a grid finer than
1/255 (:class:`PerturbationCodes`), so a copy costs one byte a pixel, as a uint8 image would, but its
perturbation is within half a 1/255 step of the drawn one and never exceeds the bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lit_robust.data.augment import crop_at, hflip_where
from lit_robust.data.dataset import Batch
from lit_robust.data.noise import Distribution
from lit_robust.pixels import to_unit_range

INT8_MAX = torch.iinfo(torch.int8).max
INT16_MAX = torch.iinfo(torch.int16).max


@dataclass(frozen=True)
class PerturbationCodes:
    """How perturbations are stored: ``delta = code * scale``, ``|code| <= limit``, ``|delta| <= bound``.

    :meth:`for_noise` picks the format:

    - U(-eps, eps) with ``eps <= 127/255``: int8 codes in ``[-127, 127]`` with ``scale = eps / 127``. The
      grid step ``eps / 127`` is at most 1/255, so rounding to the nearest code moves a draw by at most half
      a 1/255 step, the grid's ends are exactly ``-eps`` and ``eps`` (the bound holds exactly), and a copy
      takes one byte a pixel. Larger eps: int16 codes (two bytes a pixel), ``scale = eps / 32767``.
    - N(0, eps^2): int16 codes with ``scale = 1 / 32767``, so perturbations beyond ``[-1, 1]`` are clipped to
      it (which changes no pixel: a pixel moved by more than 1 is clipped to 0 or 1 either way).

    Attributes:
        dtype: integer dtype of the codes.
        scale: size of one code step in [0, 1] pixels.
        bound: largest perturbation magnitude stored (``eps``, or 1 for the normal distribution).
    """

    dtype: torch.dtype
    scale: float
    bound: float

    @classmethod
    def for_noise(cls, eps: float, distribution: Distribution) -> PerturbationCodes:
        if distribution == "normal":
            return cls(torch.int16, 1 / INT16_MAX, 1.0)
        if eps * 255 <= INT8_MAX:
            return cls(torch.int8, eps / INT8_MAX, eps)
        return cls(torch.int16, eps / INT16_MAX, eps)

    @property
    def limit(self) -> int:
        return torch.iinfo(self.dtype).max

    def encode(self, noise: Tensor) -> Tensor:
        """The nearest codes of float perturbations ``noise`` (clipped to ``[-bound, bound]``)."""
        return noise.div(self.scale).round_().clamp_(-self.limit, self.limit).to(self.dtype)

    def decode(self, codes: Tensor) -> Tensor:
        """Float32 perturbations of ``codes``, clamped to ``[-bound, bound]`` against float rounding."""
        return codes.float().mul_(self.scale).clamp_(-self.bound, self.bound)


class PerturbedCopies(Dataset[Batch]):
    """The extended training set of constant random perturbations; serves whole batches of [0, 1] floats.

    Index ``i < N`` is clean image ``i``; index ``N + j N + i`` is copy ``j`` of image ``i``:
    ``clip(t_ji(x_i) + decode(codes[j, i]), 0, 1)``, where ``t_ji`` is the copy's frozen crop and flip (the
    identity without ``offsets``). Labels repeat. Memory: the uint8 images, the codes (one byte a pixel for
    U(-eps, eps) with eps <= 127/255) and three bytes a copy for the frozen augmentation, so about K + 1
    times the uint8 training set. The tensors may live on a GPU (``to``): the batch is then composed there.

    Args:
        images: uint8 clean images ``(N, C, H, W)``.
        labels: int64 labels ``(N,)``.
        codes: integer perturbation codes ``(K, N, C, H, W)``.
        encoding: how the codes map to perturbations.
        offsets: uint8 ``(K, N, 2)`` crop corners in ``[0, 2 * padding]`` of each copy, or ``None``.
        flips: bool ``(K, N)``: which copies are mirrored (with ``offsets``).
        padding: zero padding of the frozen crops.
    """

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        codes: Tensor,
        encoding: PerturbationCodes,
        offsets: Tensor | None = None,
        flips: Tensor | None = None,
        padding: int = 0,
    ) -> None:
        if codes.shape[1:] != images.shape or labels.shape != images.shape[:1]:
            raise ValueError(
                f"codes must be (K, *images.shape) and labels (N,), got {tuple(codes.shape)}, "
                f"{tuple(images.shape)}, {tuple(labels.shape)}."
            )
        if (offsets is None) != (flips is None):
            raise ValueError("offsets and flips go together: give both or neither.")
        self.images, self.labels, self.codes, self.encoding = images, labels, codes, encoding
        self.offsets, self.flips, self.padding = offsets, flips, padding

    @property
    def copies(self) -> int:
        return self.codes.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes held: images, labels, codes and the frozen augmentation."""
        tensors = (self.images, self.labels, self.codes, self.offsets, self.flips)
        return sum(t.nbytes for t in tensors if t is not None)

    def __len__(self) -> int:
        return (self.copies + 1) * len(self.labels)

    def __getitem__(self, index: int) -> Batch:
        images, labels = self.__getitems__([index])
        return images[0], labels[0]

    def __getitems__(self, indices: list[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.long)
        if self.images.is_cuda:  # pinned memory: the copy does not wait for the queued kernels
            index = index.pin_memory().to(self.images.device, non_blocking=True)
        count = len(self.labels)
        image, copy = index % count, index // count - 1
        perturbed = copy >= 0
        copy = copy.clamp_(min=0)
        x = to_unit_range(self.images[image])
        if self.offsets is not None and self.flips is not None:
            centre = torch.full_like(self.offsets[copy, image], self.padding)
            offsets = torch.where(perturbed[:, None], self.offsets[copy, image], centre)
            x = hflip_where(crop_at(x, self.padding, offsets), self.flips[copy, image] & perturbed)
        delta = self.encoding.decode(self.codes[copy, image]).mul_(perturbed[:, None, None, None])
        return x.add_(delta).clamp_(0, 1), self.labels[image]

    def to(self, device: torch.device | str) -> PerturbedCopies:
        """A copy with every tensor on ``device``."""
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return PerturbedCopies(
            move(self.images), move(self.labels), move(self.codes), self.encoding,
            move(self.offsets), move(self.flips), self.padding,
        )  # fmt: skip
