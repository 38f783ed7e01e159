"""`ConstantPerturbations`: a training set extended once with K fixed random perturbations of every image.

Chernyak et al., "Constant Random Perturbations Provide Adversarial Robustness with Minimal Effect on
Accuracy": each training image ``x`` gets ``K`` copies ``clip(x + delta_j, 0, 1)``, ``delta_j`` drawn once
before training from U(-eps, eps) (or N(0, eps^2)); the clean images stay in, so one epoch covers
``N (K + 1)`` images, shuffled together, and the copies never change during the run.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from tqdm.auto import tqdm

from lit_robust.data.base import InMemoryImageDataModule, check_int
from lit_robust.data.cache import cache_file, cache_key, checksum, load_cached, save_cached
from lit_robust.data.dataset import Batch
from lit_robust.data.noise import Distribution, check_noise, sample_noise
from lit_robust.data.perturbed_copies import PerturbationCodes, PerturbedCopies
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.wrapper import DataModuleWrapper

CACHE_VERSION = 2
"""Bumped whenever the cached codes would change for the same parameters (2: codes instead of images)."""
CHUNK = 4096
"""Images whose perturbations are drawn at once: bounds the float memory of generation to a few chunks."""


class ConstantPerturbations(DataModuleWrapper):
    """Wraps a datamodule and extends its training split with ``copies`` perturbed copies of every image.

    In YAML the base is nested: ``base: {class_path: FashionMNIST, init_args: {...}}``. The metadata
    (``num_classes``, ``in_channels``, ``input_size``, ``mean``, ``std``) is the base's, so the CLI links
    work; every loader is the base's own, the training one over the extended set, which :meth:`setup`
    assigns to the base's ``train_data`` (so batch size, workers and ``device_resident`` are the base's).

    The extended set is a :class:`~lit_robust.data.perturbed_copies.PerturbedCopies` dataset, laid out as in
    the original code: index ``i < N`` is clean image ``i``; index ``N + j N + i`` is copy ``j`` of image
    ``i``; labels repeat. Its batches are composed as [0, 1] floats (on the device with the base's
    ``device_resident``). The perturbations are stored as integer codes
    (:class:`~lit_robust.data.perturbed_copies.PerturbationCodes`): for U(-eps, eps) with eps <= 127/255
    (every config), one byte a pixel on a grid of eps/127, so the stored perturbation is within half a
    1/255 step of the drawn one, reaches +-eps and never exceeds it, and the whole set takes about K + 1
    times the uint8 training set (K=10 on CIFAR-10: about 1.5 GB). (Before, the perturbed images were
    stored as uint8 with the perturbation truncated towards zero: at 8/255, 1 pixel in 8 was left
    unchanged and the mean magnitude was 12.5% low.)

    Everything follows from ``seed`` through a private ``torch.Generator`` (the global RNG is neither used
    nor changed): every DDP rank, and a run resumed from a checkpoint, builds the same copies. With
    ``cache_dir`` the codes are saved there under a key of every parameter and of the base's training data
    (its class, size and checksum) and reloaded when the key and the stored checksum match; a stale or
    corrupt file is rebuilt. The frozen augmentation (three bytes a copy) is redrawn from ``seed``.

    Differences from the paper and the original code: the paper does not augment; the original code
    applies CIFAR-10/SVHN's random crop (4 pixels of padding on 32x32 images) and horizontal flip once, at
    generation, and freezes them: ``freeze_augmentation`` does the same (each perturbed copy is cropped with
    ``input_size // 8`` pixels of padding and mirrored with probability 1/2, before its perturbation is
    added; the clean images stay as they are). The flip is the original code's, so it applies to SVHN too,
    although SVHN's own live augmentation never mirrors digits. ``augment`` adds live augmentation of every
    training batch on top.

    Args:
        base: the datamodule whose training split is extended.
        copies: perturbed copies of each training image (the paper's K).
        eps: bound of the uniform perturbation, or standard deviation of the normal one, in [0, 1] pixels.
        distribution: ``"uniform"`` (U(-eps, eps), the paper's method) or ``"normal"`` (N(0, eps^2)).
        seed: seed of the perturbations (and of the frozen augmentation).
        freeze_augmentation: crop and flip each copy once at generation, as the original code does.
        augment: augment every training batch while training with the base's :meth:`augment_batch` (the
            base's own ``augment`` flag has no effect here: its batches never pass through the base).
        cache_dir: directory where the perturbation codes are cached; ``None`` draws them at every setup.
        progress: show a progress bar while generating.
    """

    def __init__(
        self,
        base: InMemoryImageDataModule,
        copies: int = 10,
        eps: float = 0.3,
        distribution: Distribution = "uniform",
        seed: int = 0,
        freeze_augmentation: bool = False,
        augment: bool = False,
        cache_dir: str | None = None,
        progress: bool = True,
    ) -> None:
        check_int("copies", copies, 1)
        check_noise(eps, distribution)
        super().__init__(base, seed=seed, augment=augment)

    def setup(self, stage: str) -> None:
        """Sets up the base; for ``"fit"`` also builds (or loads) the extended training set, once, and hands
        it to the base, whose training loader then serves it."""
        super().setup(stage)
        if stage == "fit" and self.train_data is None:
            self.train_data = self.base.train_data = self._extended(self.base.train_data)

    @property
    def encoding(self) -> PerturbationCodes:
        """How the perturbations are stored."""
        return PerturbationCodes.for_noise(self.hparams.eps, self.hparams.distribution)

    # ------------------------------------------------------------------------------------ generation
    def cache_key(self, clean: Batch) -> str:
        """Hex key of every parameter that determines the codes, including the base's training data."""
        base = type(self.base)
        fields = {
            "version": CACHE_VERSION,
            "base": f"{base.__module__}.{base.__qualname__}",
            "size": len(clean[1]),
            "data": checksum(*clean),
            **{name: self.hparams[name] for name in ("copies", "eps", "distribution", "seed")},
        }
        return cache_key(fields)

    def cache_path(self, key: str) -> Path | None:
        """File of the cached perturbation codes for ``key``, or ``None`` without a ``cache_dir``."""
        return cache_file(self.hparams.cache_dir, "constant_perturbations", key)

    def _extended(self, clean: Batch) -> PerturbedCopies:
        images, labels = clean
        key = self.cache_key(clean)
        path = self.cache_path(key)
        codes = load_cached(path, key, type(self).__name__) if path is not None else None
        if codes is None:
            codes = self.generate(images)
            if path is not None:
                save_cached(path, key, codes)
        if not self.hparams.freeze_augmentation:
            return PerturbedCopies(images, labels, codes, self.encoding)
        padding = self.base.input_size // 8
        offsets, flips = self.frozen_augmentation(len(labels), padding)
        return PerturbedCopies(images, labels, codes, self.encoding, offsets, flips, padding)

    def generate(self, images: Tensor) -> Tensor:
        """The perturbation codes ``(copies, N, C, H, W)`` of the uint8 ``images``, drawn from ``seed``."""
        copies, count, encoding = self.hparams.copies, len(images), self.encoding
        codes = torch.empty((copies, *images.shape), dtype=encoding.dtype)
        generator = seeded_generator(self.hparams.seed, 0)
        chunks = [(j, start) for j in range(copies) for start in range(0, count, CHUNK)]
        for j, start in tqdm(chunks, desc="constant perturbations", disable=not self.hparams.progress):
            like = images[start : start + CHUNK]
            noise = sample_noise(like, self.hparams.eps, self.hparams.distribution, generator)
            codes[j, start : start + len(like)] = encoding.encode(noise)
        return codes

    def frozen_augmentation(self, count: int, padding: int) -> tuple[Tensor, Tensor]:
        """Crop corners ``(copies, N, 2)`` in ``[0, 2 * padding]`` and flips ``(copies, N)`` of the copies."""
        generator = seeded_generator(self.hparams.seed, 1)
        shape = (self.hparams.copies, count)
        offsets = torch.randint(0, 2 * padding + 1, (*shape, 2), generator=generator, dtype=torch.uint8)
        return offsets, torch.rand(shape, generator=generator) < 0.5
