"""`load_defended_model`: the defended model of a defense checkpoint, rebuilt and loaded weights-only."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

from torch import nn

from lit_robust.defenses.robust_classifier import RobustClassifier


def load_defended_model(path: str | Path) -> nn.Module:
    """The defended model (:attr:`RobustClassifier.defended_model`, a
    :class:`~lit_robust.models.DefendedModel` for most defenses) of a ``RobustClassifier`` (or defense)
    checkpoint, loaded with ``weights_only=True``: CPU, eval mode.

    The defense is rebuilt from the checkpoint's hyper-parameters as ``load_from_checkpoint`` does, which
    works for checkpoints made by ``lit-robust fit`` (the backbone's config is stored). A checkpoint made in
    Python does not store an injected backbone: build the model yourself and load its weights with
    :func:`~lit_robust.models.load_defended_weights`.

    Raises:
        FileNotFoundError: if ``path`` is not a file.
        ValueError: if the file is not a loadable checkpoint (naming the path and the cause).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist (or is not a file).")
    try:
        defense = RobustClassifier.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    except TypeError as error:
        raise ValueError(
            f"cannot rebuild the model of checkpoint {str(path)!r} from its hyper-parameters ({error}); if "
            "it was saved from Python, build the model and load its weights with load_defended_weights("
            "model, path), or RobustClassifier.load_from_checkpoint(path, backbone=...)."
        ) from error
    except (RuntimeError, KeyError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise ValueError(f"checkpoint {str(path)!r} is not a loadable checkpoint: {error}") from error
    return defense.defended_model.eval()
