"""The one place where lit_robust relies on private Lightning or jsonargparse API.

Every function here names what it relies on; ``tests/test_lightning_internals.py`` pins that behaviour, so
an upgrade that changes it fails there first.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.core.mixins import hparams_mixin


def given_hyperparameters() -> dict[str, Any] | None:
    """The config LightningCLI hands to the module it is instantiating (``None`` outside the CLI).

    LightningCLI instantiates the model inside ``hparams_mixin._given_hyperparameters_context``, and
    ``save_hyperparameters`` then stores that config (``class_path`` dictionaries of the injected modules
    and factories) instead of the constructor's live arguments. No public API tells a module whether it is
    being built that way, which decides whether its live arguments must be kept out of the hparams.
    """
    return hparams_mixin._given_hyperparameters.get()
