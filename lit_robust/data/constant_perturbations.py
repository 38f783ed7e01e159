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
from lit_robust.data.noise import Distribution, check_noise, perturb_uint8
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.wrapper import DataModuleWrapper

CACHE_VERSION = 1
"""Bumped whenever the generated images would change for the same parameters."""
CHUNK = 4096
"""Images perturbed at once: bounds the float memory of generation to a few chunks."""


class ConstantPerturbations(DataModuleWrapper):
    """Wraps a datamodule and extends its training split with ``copies`` perturbed copies of every image.

    In YAML the base is nested: ``base: {class_path: FashionMNIST, init_args: {...}}``. The metadata
    (``num_classes``, ``in_channels``, ``input_size``, ``mean``, ``std``) is the base's, so the CLI links
    work; every loader is the base's own, the training one over the extended set, which :meth:`setup`
    assigns to the base's ``train_data`` (so batch size and workers are the base's). Batches become floats
    in [0, 1] on the device as in the base (the same inherited :meth:`on_after_batch_transfer`).

    Layout of the extended set, as in the original code: index ``i < N`` is clean image ``i``; index
    ``N + j N + i`` is copy ``j`` of image ``i``. Labels repeat. The copies are stored as uint8 (one byte
    a pixel: K=10 on CIFAR-10 is 550k images, about 1.7 GB) by :func:`~lit_robust.data.noise.perturb_uint8`:
    each drawn perturbation is rounded towards the clean value to a whole number of 1/255 steps, so the
    stored perturbation never exceeds ``eps`` (its mean magnitude is slightly below the drawn one's).

    Everything follows from ``seed`` through a private ``torch.Generator`` (the global RNG is neither used
    nor changed): every DDP rank, and a run resumed from a checkpoint, builds the same copies. With
    ``cache_dir`` the copies are saved there under a key of every parameter and of the base's training data
    (its class, size and checksum) and reloaded when the key and the stored checksum match; a stale or
    corrupt file is rebuilt.

    Differences from the paper and the original code: the paper does not augment; the original code
    applies CIFAR-10/SVHN's random crop and flip once, at generation, and freezes them
    (``freeze_augmentation``: each perturbed copy is cropped and flipped before its perturbation is added;
    the clean images stay as they are). ``augment`` adds live augmentation of every training batch on top.

    Args:
        base: the datamodule whose training split is extended.
        copies: perturbed copies of each training image (the paper's K).
        eps: bound of the uniform perturbation, or standard deviation of the normal one, in [0, 1] pixels.
        distribution: ``"uniform"`` (U(-eps, eps), the paper's method) or ``"normal"`` (N(0, eps^2)).
        seed: seed of the perturbations (and of the frozen augmentation).
        freeze_augmentation: crop and flip each copy once at generation, as the original code does.
        augment: augment every training batch while training with the base's :meth:`augment_batch` (the
            base's own ``augment`` flag has no effect here: its batches never pass through the base).
        cache_dir: directory where the copies are cached; ``None`` regenerates them at every setup.
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

    # ------------------------------------------------------------------------------------ generation
    def cache_key(self, clean: Batch) -> str:
        """Hex key of every parameter that determines the copies, including the base's training data."""
        base = type(self.base)
        fields = {
            "version": CACHE_VERSION,
            "base": f"{base.__module__}.{base.__qualname__}",
            "size": len(clean[1]),
            "data": checksum(*clean),
            **{
                name: self.hparams[name]
                for name in ("copies", "eps", "distribution", "seed", "freeze_augmentation")
            },
        }
        return cache_key(fields)

    def cache_path(self, key: str) -> Path | None:
        """File of the cached extended images for ``key``, or ``None`` without a ``cache_dir``."""
        return cache_file(self.hparams.cache_dir, "constant_perturbations", key)

    def _extended(self, clean: Batch) -> Batch:
        key = self.cache_key(clean)
        path = self.cache_path(key)
        images = load_cached(path, key, type(self).__name__) if path is not None else None
        if images is None:
            images = self.generate(clean[0])
            if path is not None:
                save_cached(path, key, images)
        return images, clean[1].repeat(self.hparams.copies + 1)

    def generate(self, images: Tensor) -> Tensor:
        """uint8 ``images`` followed by their ``copies`` perturbed copies, copy after copy, in one tensor."""
        copies, seed, count = self.hparams.copies, self.hparams.seed, len(images)
        out = torch.empty(((copies + 1) * count, *images.shape[1:]), dtype=torch.uint8)
        out[:count] = images
        noise = seeded_generator(seed, 0)
        chunks = [(j, start) for j in range(1, copies + 1) for start in range(0, count, CHUNK)]
        with torch.random.fork_rng(devices=[]):  # frozen augmentation uses the global RNG: seed it here
            torch.manual_seed(seeded_generator(seed, 1).initial_seed())
            for j, start in tqdm(chunks, desc="constant perturbations", disable=not self.hparams.progress):
                chunk = images[start : start + CHUNK]
                if self.hparams.freeze_augmentation:
                    chunk = self._augment_uint8(chunk)
                offset = j * count + start
                out[offset : offset + len(chunk)] = perturb_uint8(
                    chunk, self.hparams.eps, self.hparams.distribution, noise
                )
        return out

    def _augment_uint8(self, images: Tensor) -> Tensor:
        """The base's augmentation of uint8 images (crop and flip move whole pixels: nothing is rounded)."""
        return self.base.augment_batch(images.float().div_(255)).mul_(255).round_().to(torch.uint8)
