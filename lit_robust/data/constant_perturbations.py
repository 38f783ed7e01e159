"""`ConstantPerturbations`: a step that extends the training set once with K fixed random perturbations of
every image.

Chernyak et al., "Constant Random Perturbations Provide Adversarial Robustness with Minimal Effect on
Accuracy": each training image ``x`` gets ``K`` copies ``clip(x + delta_j, 0, 1)``, ``delta_j`` drawn once
before training from U(-eps, eps) (or N(0, eps^2)); the clean images stay in, so one epoch covers
``N (K + 1)`` images, shuffled together, and the copies never change during the run.
"""

from __future__ import annotations

import torch
from torch import Tensor
from tqdm.auto import tqdm

from lit_robust.data.cached_step import CachedStep
from lit_robust.data.dataset import Batch
from lit_robust.data.noise import Distribution, check_noise, sample_noise
from lit_robust.data.perturbed_copies import PerturbationCodes, PerturbedCopies
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.source import ImageSource
from lit_robust.data.step import SplitData, Stage, require_tensors
from lit_robust.validation import check_int

CACHE_VERSION = 2
"""Bumped whenever the cached codes would change for the same parameters (2: codes instead of images)."""
CHUNK = 4096
"""Images whose perturbations are drawn at once: bounds the float memory of generation to a few chunks."""


class ConstantPerturbations(CachedStep):
    """Extends the training split with ``copies`` perturbed copies of every image (a step of
    :class:`~lit_robust.data.ImageDataModule`; validation and test are left alone).

    In YAML: ``steps: [{class_path: ConstantPerturbations, init_args: {copies: 10, eps: 0.3}}]``.

    The extended set is a :class:`~lit_robust.data.perturbed_copies.PerturbedCopies` dataset, laid out as in
    the original code: index ``i < N`` is clean image ``i``; index ``N + j N + i`` is copy ``j`` of image
    ``i``; labels repeat. Its batches are composed as [0, 1] floats (on the device with the datamodule's
    ``device_resident``). The perturbations are stored as integer codes
    (:class:`~lit_robust.data.perturbed_copies.PerturbationCodes`): for U(-eps, eps) with eps <= 127/255
    (every config), one byte a pixel on a grid of eps/127, so the stored perturbation is within half a
    1/255 step of the drawn one, reaches +-eps and never exceeds it, and the whole set takes about K + 1
    times the uint8 training set (K=10 on CIFAR-10: about 1.5 GB). (Before, the perturbed images were
    stored as uint8 with the perturbation truncated towards zero: at 8/255, 1 pixel in 8 was left
    unchanged and the mean magnitude was 12.5% low.)

    Everything follows from ``seed`` through a private ``torch.Generator`` (the global RNG is neither used
    nor changed): every DDP rank, and a run resumed from a checkpoint, builds the same copies. With
    ``cache_dir`` the codes are saved there under a key of every parameter and of the training data (the
    source's class, the size and a checksum) and reloaded when the key and the stored checksum match; a
    stale or corrupt file is rebuilt. The frozen augmentation (three bytes a copy) is redrawn from ``seed``.

    Differences from the paper and the original code: the paper does not augment; the original code
    applies CIFAR-10/SVHN's random crop (4 pixels of padding on 32x32 images) and horizontal flip once, at
    generation, and freezes them: ``freeze_augmentation`` does the same (each perturbed copy is cropped with
    ``input_size // 8`` pixels of padding and mirrored with probability 1/2, before its perturbation is
    added; the clean images stay as they are). The flip is the original code's, so it applies to SVHN too,
    although SVHN's own live augmentation never mirrors digits. The datamodule's ``augment`` adds live
    augmentation of every training batch on top.

    Args:
        copies: perturbed copies of each training image (the paper's K).
        eps: bound of the uniform perturbation, or standard deviation of the normal one, in [0, 1] pixels.
        distribution: ``"uniform"`` (U(-eps, eps), the paper's method) or ``"normal"`` (N(0, eps^2)).
        seed: seed of the perturbations (and of the frozen augmentation); ``None``: the run's seed
            (``seed_everything``), so that each seed of an experiment trains on its own perturbation set,
            as the paper's runs do.
        freeze_augmentation: crop and flip each copy once at generation, as the original code does.
        cache_dir: directory where the perturbation codes are cached; ``None`` draws them at every setup.
        progress: show a progress bar while generating.
    """

    cache_prefix = "constant_perturbations"

    def __init__(
        self,
        copies: int = 10,
        eps: float = 0.3,
        distribution: Distribution = "uniform",
        seed: int | None = 0,
        freeze_augmentation: bool = False,
        cache_dir: str | None = None,
        progress: bool = True,
    ) -> None:
        check_int("copies", copies, 1)
        check_noise(eps, distribution)
        super().__init__(seed, cache_dir, progress)
        self.copies = copies
        self.eps = eps
        self.distribution = distribution
        self.freeze_augmentation = freeze_augmentation

    def __call__(self, split: Stage, data: SplitData, source: ImageSource) -> SplitData:
        """The training split extended with the perturbed copies (built or loaded); other splits as given."""
        if split != "train":
            return data
        return self.extended(require_tensors(data, self), source)

    @property
    def encoding(self) -> PerturbationCodes:
        """How the perturbations are stored."""
        return PerturbationCodes.for_noise(self.eps, self.distribution)

    # ------------------------------------------------------------------------------------ generation
    def cache_key(self, clean: Batch, source: ImageSource) -> str:
        """Hex key of every parameter that determines the codes, including the training data."""
        fields = {name: getattr(self, name) for name in ("copies", "eps", "distribution")}
        return self.key_of(clean, source, version=CACHE_VERSION, seed=self.generation_seed, **fields)

    def extended(self, clean: Batch, source: ImageSource) -> PerturbedCopies:
        """The clean uint8 training set with its perturbed copies, from the cache when it holds them."""
        images, labels = clean
        codes = self.cached(self.cache_key(clean, source), lambda: self.generate(images))
        if not self.freeze_augmentation:
            return PerturbedCopies(images, labels, codes, self.encoding)
        padding = source.input_size // 8
        offsets, flips = self.frozen_augmentation(len(labels), padding)
        return PerturbedCopies(images, labels, codes, self.encoding, offsets, flips, padding)

    def generate(self, images: Tensor) -> Tensor:
        """The perturbation codes ``(copies, N, C, H, W)`` of the uint8 ``images``, from the step's seed."""
        copies, count, encoding = self.copies, len(images), self.encoding
        codes = torch.empty((copies, *images.shape), dtype=encoding.dtype)
        generator = seeded_generator(self.generation_seed, 0)
        chunks = [(j, start) for j in range(copies) for start in range(0, count, CHUNK)]
        for j, start in tqdm(chunks, desc="constant perturbations", disable=not self.progress):
            like = images[start : start + CHUNK]
            noise = sample_noise(like, self.eps, self.distribution, generator)
            codes[j, start : start + len(like)] = encoding.encode(noise)
        return codes

    def frozen_augmentation(self, count: int, padding: int) -> tuple[Tensor, Tensor]:
        """Crop corners ``(copies, N, 2)`` in ``[0, 2 * padding]`` and flips ``(copies, N)`` of the copies."""
        generator = seeded_generator(self.generation_seed, 1)
        shape = (self.copies, count)
        offsets = torch.randint(0, 2 * padding + 1, (*shape, 2), generator=generator, dtype=torch.uint8)
        return offsets, torch.rand(shape, generator=generator) < 0.5
