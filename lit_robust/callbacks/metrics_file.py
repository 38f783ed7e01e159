"""`MetricsFile`: the run's final logged numbers as JSON, so every logged number is recoverable per run."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback


class MetricsFile(Callback):
    """Writes ``trainer.callback_metrics`` at the end of ``fit``, ``validate`` and ``test`` to one JSON file.

    The file maps each stage to its last logged values (``{"fit": {"val/acc": ...}, "test": {...}}``; a
    stage run again replaces its entry) and ``"points"`` to the sizes of the evaluated sets of the last
    stage: ``"dataset"`` (the points of the first evaluation loader) and, for each callback that attacks a
    subset (an ``EvaluationSubset`` in its ``subset`` attribute), ``"<index>:<class name>"``. Only the
    global-zero process writes.

    Args:
        path: the JSON file; ``None``: ``metrics.json`` in the trainer's ``log_dir`` (its root directory
            without a logger).
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def file(self, trainer: L.Trainer) -> Path:
        """Where the metrics of ``trainer`` go."""
        return Path(self.path or Path(trainer.log_dir or trainer.default_root_dir) / "metrics.json")

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, "fit", trainer.val_dataloaders)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "validate":
            self._write(trainer, "validate", trainer.val_dataloaders)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, "test", trainer.test_dataloaders)

    def _write(self, trainer: L.Trainer, stage: str, loaders: Any) -> None:
        if not trainer.is_global_zero:
            return
        path = self.file(trainer)
        stored = json.loads(path.read_text()) if path.is_file() else {}
        stored[stage] = {name: _number(value) for name, value in sorted(trainer.callback_metrics.items())}
        stored["points"] = _points(trainer, loaders)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=1) + "\n")


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def _points(trainer: L.Trainer, loaders: Any) -> dict[str, int]:
    loader = loaders[0] if isinstance(loaders, (list, tuple)) and loaders else loaders
    dataset = getattr(loader, "dataset", None)
    points = {"dataset": len(dataset)} if dataset is not None else {}
    for index, callback in enumerate(trainer.callbacks):
        subset = getattr(callback, "subset", None)
        if subset is not None and hasattr(subset, "limit"):
            points[f"{index}:{type(callback).__name__}"] = int(subset.limit)
    return points
