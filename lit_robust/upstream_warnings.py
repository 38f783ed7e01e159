"""The one upstream warning that ``lit-robust`` hides, by its exact message and origin.

Lightning (2.6.x) builds ``torch.utils._pytree.LeafSpec()`` in ``lightning.pytorch.utilities._pytree`` for
every dataloader it combines, and torch 2.10+ deprecated that class with a ``FutureWarning``: every run
shows it once, and nothing in a user's code or config can avoid it. Only that message from that module is
ignored; the same warning raised anywhere else, and every other warning, still shows.
"""

from __future__ import annotations

import warnings

LEAFSPEC_MESSAGE = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
LEAFSPEC_MODULE = r"lightning\.pytorch\.utilities\._pytree"


def ignore_lightning_leafspec_warning() -> None:
    """Ignores torch's ``LeafSpec`` deprecation when Lightning's pytree helper triggers it."""
    warnings.filterwarnings("ignore", LEAFSPEC_MESSAGE, FutureWarning, LEAFSPEC_MODULE)
