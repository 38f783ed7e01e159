"""Which logger run a checkpoint came from, so that testing it logs beside that run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonargparse import Namespace


def log_into_checkpoint_run(trainer_config: Namespace, ckpt_path: str | Path | None, sub_dir: str) -> bool:
    """Points the trainer config's TensorBoard logger at the run that wrote ``ckpt_path``; returns whether it
    did.

    A logger with ``save_dir``, ``name``, ``version`` and ``sub_dir`` arguments (``TensorBoardLogger``) writes
    its checkpoints to ``save_dir/name/version/checkpoints/``. When ``ckpt_path`` lies in such a folder under
    the configured ``save_dir`` and ``name`` and the config leaves ``version`` and ``sub_dir`` unset, they
    become that run's version and ``sub_dir``: a ``test`` of the checkpoint then logs into
    ``save_dir/name/version/test/``, which TensorBoard shows as a run beside the training run (its own
    steps start at 0, so it cannot overwrite the training curves), and no new version is opened. Anything else
    (no checkpoint, another logger, a checkpoint from elsewhere, a set version) is left as it is.
    """
    logger: Any = trainer_config.get("logger")
    args = logger.get("init_args") if isinstance(logger, Namespace) else None
    if not ckpt_path or args is None or not {"save_dir", "version", "sub_dir"} <= set(args.keys()):
        return False
    if args.version is not None or args.sub_dir is not None:
        return False
    folder = Path(ckpt_path).resolve().parent
    run_dir = folder.parent
    logger_root = Path(args.save_dir, args.get("name") or "").resolve()
    if folder.name != "checkpoints" or run_dir.parent != logger_root:
        return False
    args.version, args.sub_dir = run_dir.name, sub_dir
    return True
