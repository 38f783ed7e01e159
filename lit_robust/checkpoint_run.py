"""Which logger run a checkpoint came from, so that testing it logs into that run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonargparse import Namespace


def log_into_checkpoint_run(trainer_config: Namespace, ckpt_path: str | Path | None) -> bool:
    """Points the trainer config's logger at the run that wrote ``ckpt_path``; returns whether it did.

    A logger with ``save_dir``, ``name`` and ``version`` arguments (TensorBoard, CSV) writes its checkpoints
    to ``save_dir/name/version/checkpoints/``. When ``ckpt_path`` lies in such a folder under the configured
    ``save_dir`` and ``name`` and the config leaves ``version`` unset, ``version`` becomes that run's, so a
    ``test`` of the checkpoint adds its numbers to the training run's logs instead of opening a new version.
    Anything else (no checkpoint, another logger, a checkpoint from elsewhere, a set version) is left as is.
    """
    logger: Any = trainer_config.get("logger")
    args = logger.get("init_args") if isinstance(logger, Namespace) else None
    if not ckpt_path or args is None or args.get("version") is not None or "save_dir" not in args:
        return False
    folder = Path(ckpt_path).resolve().parent
    run_dir = folder.parent
    logger_root = Path(args.save_dir, args.get("name") or "").resolve()
    if folder.name != "checkpoints" or run_dir.parent != logger_root:
        return False
    args.version = run_dir.name
    return True
