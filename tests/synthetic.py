"""`synthetic_data`: SyntheticImages in an ImageDataModule, built from one set of keyword arguments."""

from __future__ import annotations

import inspect

from lit_robust.data import ImageDataModule, SyntheticImages

DATAMODULE_ARGUMENTS = set(inspect.signature(ImageDataModule).parameters) - {"source"}


def synthetic_data(**kwargs: object) -> ImageDataModule:
    """An :class:`ImageDataModule` over :class:`SyntheticImages`: its own arguments (``batch_size``,
    ``val_size``, ``augment``, ...) go to the datamodule, the rest to the source; ``seed`` goes to both."""
    datamodule = {name: value for name, value in kwargs.items() if name in DATAMODULE_ARGUMENTS}
    source = {name: value for name, value in kwargs.items() if name not in DATAMODULE_ARGUMENTS}
    if "seed" in kwargs:
        source["seed"] = kwargs["seed"]
    return ImageDataModule(SyntheticImages(**source), **datamodule)
