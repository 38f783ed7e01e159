"""`PixelRedrawn`: a step that redraws the training images once, before training (Pixel Redrawn)."""

from __future__ import annotations

import torch
from torch import Tensor
from tqdm.auto import tqdm

from lit_robust.data.cache import checksum
from lit_robust.data.cached_step import CachedStep
from lit_robust.data.dataset import Batch
from lit_robust.data.seeding import seeded_generator
from lit_robust.data.source import ImageSource
from lit_robust.data.step import SplitData, Stage, require_tensors
from lit_robust.models.pixel_redraw import PixelRedrawer
from lit_robust.pixels import to_unit_range
from lit_robust.validation import check_int

CACHE_VERSION = 1
"""Bumped whenever the redrawn images would change for the same parameters."""
CHUNK = 4096
"""Images redrawn at once: bounds the float memory of the redraw (``k`` logits a pixel) to a few chunks."""
SPLITS: tuple[Stage, ...] = ("train", "val", "test")


class PixelRedrawn(CachedStep):
    """Trains on Pixel Redrawn images, precomputed: ``redraws`` redraws of each training image (a step of
    :class:`~lit_robust.data.ImageDataModule`).

    In YAML: ``steps: [{class_path: PixelRedrawn, init_args: {redrawer: {class_path: PixelRedrawer, ...}}}]``.

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

    Everything follows from ``seed`` and the redrawer (whose PR models follow from its own ``seed``): every
    DDP rank, and a resumed run, builds the same images. With ``cache_dir`` the redrawn splits are cached
    under a key of the parameters, the redrawer's models and the data, exactly as
    :class:`ConstantPerturbations` caches its copies (:mod:`lit_robust.data.cache`).

    Args:
        redrawer: the :class:`~lit_robust.models.PixelRedrawer` (in YAML a nested ``class_path``); its own
            ``redraw_seed`` is ignored here, the draws follow ``seed``.
        redraws: redrawn copies of each training image.
        redraw_eval: also redraw the validation and test images (once).
        seed: seed of the redraws; ``None``: the run's seed (``seed_everything``).
        cache_dir: directory where the redrawn images are cached; ``None`` redraws at every setup.
        progress: show a progress bar while redrawing.
    """

    cache_prefix = "pixel_redrawn"

    def __init__(
        self,
        redrawer: PixelRedrawer,
        redraws: int = 1,
        redraw_eval: bool = False,
        seed: int | None = 0,
        cache_dir: str | None = None,
        progress: bool = True,
    ) -> None:
        check_int("redraws", redraws, 1)
        super().__init__(seed, cache_dir, progress)
        self.redrawer = redrawer
        self.redraws = redraws
        self.redraw_eval = redraw_eval

    def __call__(self, split: Stage, data: SplitData, source: ImageSource) -> SplitData:
        """``split`` redrawn (built or loaded): always the training split, validation and test with
        ``redraw_eval``; other splits as given."""
        if split != "train" and not self.redraw_eval:
            return data
        return self.redrawn(split, require_tensors(data, self), source)

    # ------------------------------------------------------------------------------------ generation
    def copies(self, split: Stage) -> int:
        """Redraws per image of ``split``: ``redraws`` for training, one for validation and test."""
        return self.redraws if split == "train" else 1

    def cache_key(self, split: Stage, clean: Batch, source: ImageSource) -> str:
        """Hex key of everything that determines the redrawn ``split``: parameters, PR models, data."""
        redrawer = self.redrawer
        return self.key_of(
            clean,
            source,
            version=CACHE_VERSION,
            split=split,
            pr_models=checksum(*redrawer.state_dict().values()),
            redrawer=[redrawer.choice, redrawer.grayscale, redrawer.decimals],
            redraws=self.copies(split),
            seed=self.generation_seed,
        )

    def redrawn(self, split: Stage, clean: Batch, source: ImageSource) -> Batch:
        """The redraws of the uint8 ``clean`` split with their labels, from the cache when it holds them."""
        images = self.cached(self.cache_key(split, clean, source), lambda: self.generate(clean[0], split))
        return images, clean[1].repeat(self.copies(split))

    def generate(self, images: Tensor, split: Stage = "train") -> Tensor:
        """``copies(split)`` redraws of the uint8 ``images``, redraw after redraw, as one uint8 tensor."""
        copies, count = self.copies(split), len(images)
        out = torch.empty((copies * count, *images.shape[1:]), dtype=torch.uint8)
        generator = seeded_generator(self.generation_seed, SPLITS.index(split))
        chunks = [(j, start) for j in range(copies) for start in range(0, count, CHUNK)]
        for j, start in tqdm(chunks, desc=f"pixel redrawn ({split})", disable=not self.progress):
            chunk = to_unit_range(images[start : start + CHUNK])
            offset = j * count + start
            redrawn = self.redrawer(chunk, generator=generator)
            out[offset : offset + len(chunk)] = redrawn.mul_(255).round_().to(torch.uint8)
        return out
