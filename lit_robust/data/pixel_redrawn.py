"""`PixelRedrawn`: a datamodule whose training images are redrawn once, before training (Pixel Redrawn)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from tqdm.auto import tqdm

from lit_robust.data.base import InMemoryImageDataModule, check_int
from lit_robust.data.cache import cache_file, cache_key, checksum, load_cached, save_cached
from lit_robust.data.dataset import Batch
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.wrapper import DataModuleWrapper
from lit_robust.models.pixel_redraw import PixelRedrawer

CACHE_VERSION = 1
"""Bumped whenever the redrawn images would change for the same parameters."""
CHUNK = 4096
"""Images redrawn at once: bounds the float memory of the redraw (``k`` logits a pixel) to a few chunks."""
SPLITS = ("train", "val", "test")


class PixelRedrawn(DataModuleWrapper):
    """Wraps a datamodule and trains on Pixel Redrawn images, precomputed: ``redraws`` redraws of each image.

    The paper trains on PR images only, so the training set is ``N * redraws`` redrawn images (index
    ``j N + i`` is redraw ``j`` of image ``i``; labels repeat) and no clean ones. An epoch is then ``redraws``
    times as long as one over the clean images: to compare with other phases at equal optimisation steps
    (Table 1), either redraw on the fly
    (:class:`~lit_robust.defenses.PixelRedrawnClassifier` with ``phase="train"``: a fresh redraw of every
    batch, as the original code redraws every epoch; the configs do this), or precompute ``redraws = E``
    and train one epoch, which takes the steps of E clean epochs with a fresh redraw for each. Validation
    and test images are redrawn too (once, with a fixed draw) when ``redraw_eval`` is set, the "PR in
    testing" phase for a plain classifier; leave it off when the defense redraws at test time itself
    (:class:`~lit_robust.defenses.PixelRedrawnClassifier`), which draws afresh at each call and is what the
    attacks must see.

    Metadata, loaders and augmentation are the base's, as in :class:`ConstantPerturbations`. Everything
    follows from ``seed`` and the redrawer (whose PR models follow from its own ``seed``): every DDP rank,
    and a resumed run, builds the same images. With ``cache_dir`` the redrawn splits are cached under a key
    of the parameters, the redrawer's models and the base's data, exactly as
    :class:`ConstantPerturbations` caches its copies (:mod:`lit_robust.data.cache`).

    Args:
        base: the datamodule whose images are redrawn.
        redrawer: the :class:`~lit_robust.models.PixelRedrawer` (in YAML a nested ``class_path``); its own
            ``redraw_seed`` is ignored here, the draws follow ``seed``.
        redraws: redrawn copies of each training image.
        redraw_eval: also redraw the validation and test images (once).
        seed: seed of the redraws.
        augment: augment every training batch with the base's :meth:`augment_batch`.
        cache_dir: directory where the redrawn images are cached; ``None`` redraws at every setup.
        progress: show a progress bar while redrawing.
    """

    def __init__(
        self,
        base: InMemoryImageDataModule,
        redrawer: PixelRedrawer,
        redraws: int = 1,
        redraw_eval: bool = False,
        seed: int = 0,
        augment: bool = False,
        cache_dir: str | None = None,
        progress: bool = True,
    ) -> None:
        check_int("redraws", redraws, 1)
        super().__init__(base, seed=seed, augment=augment)
        self.redrawer = redrawer

    def setup(self, stage: str) -> None:
        """Sets up the base, then redraws (or loads) the splits of ``stage`` once and hands them to it."""
        super().setup(stage)
        if stage == "fit" and self.train_data is None:
            self.train_data = self.base.train_data = self._redrawn("train", self.base.train_data)
        if not self.hparams.redraw_eval:
            return
        if stage in ("fit", "validate") and self.val_data is None and self.base.val_data is not None:
            self.val_data = self.base.val_data = self._redrawn("val", self.base.val_data)
        if stage in ("test", "predict") and self.test_data is None:
            self.test_data = self.base.test_data = self._redrawn("test", self.base.test_data)

    # ------------------------------------------------------------------------------------ generation
    def copies(self, split: str) -> int:
        """Redraws per image of ``split``: ``redraws`` for training, one for validation and test."""
        return self.hparams.redraws if split == "train" else 1

    def cache_key(self, split: str, clean: Batch) -> str:
        """Hex key of everything that determines the redrawn ``split``: parameters, PR models, base data."""
        base, redrawer = type(self.base), self.redrawer
        return cache_key(
            {
                "version": CACHE_VERSION,
                "split": split,
                "base": f"{base.__module__}.{base.__qualname__}",
                "size": len(clean[1]),
                "data": checksum(*clean),
                "pr_models": checksum(*redrawer.state_dict().values()),
                "redrawer": [redrawer.choice, redrawer.grayscale, redrawer.decimals],
                "redraws": self.copies(split),
                "seed": self.hparams.seed,
            }
        )

    def cache_path(self, key: str) -> Path | None:
        """File of the cached redrawn images for ``key``, or ``None`` without a ``cache_dir``."""
        return cache_file(self.hparams.cache_dir, "pixel_redrawn", key)

    def _redrawn(self, split: str, clean: Batch) -> Batch:
        key = self.cache_key(split, clean)
        path = self.cache_path(key)
        images = load_cached(path, key, type(self).__name__) if path is not None else None
        if images is None:
            images = self.generate(clean[0], split)
            if path is not None:
                save_cached(path, key, images)
        return images, clean[1].repeat(self.copies(split))

    def generate(self, images: Tensor, split: str = "train") -> Tensor:
        """``copies(split)`` redraws of the uint8 ``images``, redraw after redraw, as one uint8 tensor."""
        copies, count = self.copies(split), len(images)
        out = torch.empty((copies * count, *images.shape[1:]), dtype=torch.uint8)
        generator = seeded_generator(self.hparams.seed, SPLITS.index(split))
        chunks = [(j, start) for j in range(copies) for start in range(0, count, CHUNK)]
        for j, start in tqdm(chunks, desc=f"pixel redrawn ({split})", disable=not self.hparams.progress):
            chunk = images[start : start + CHUNK].float().div_(255)
            offset = j * count + start
            redrawn = self.redrawer(chunk, generator=generator)
            out[offset : offset + len(chunk)] = redrawn.mul_(255).round_().to(torch.uint8)
        return out
