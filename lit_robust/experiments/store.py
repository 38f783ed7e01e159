"""Where the runs of a spec keep their results (small JSON records, to commit) and work files (checkpoints and
logs, not committed); what counts as finished."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from lit_robust.experiments.commands import slug
from lit_robust.experiments.spec import Row, Spec

DEFAULT_RESULTS = Path("docs/results/runs")
DEFAULT_WORK = Path("lightning_logs/experiments")


class ResultStore:
    """Records under ``results_dir``, work folders under ``work_dir``.

    - a fit: ``fits/<key>.json`` (its checkpoint, final metrics, seconds, command) and ``<work>/fits/<key>/``;
    - a test: ``<defense>/<table>/<scale>/<row>/seed<seed>.json`` (the row's metrics at that seed) and the
      same path, without ``.json``, under ``work_dir``.

    A record is written last, in one rename, so a run is finished exactly when its record exists (a fit also
    needs its checkpoint: a fresh clone has the records but not the checkpoints). A work folder without a
    record is what a killed run left: :meth:`fresh_work` empties it before the run is redone.

    Args:
        results_dir: root of the JSON records.
        work_dir: root of the checkpoints and logs.
    """

    def __init__(
        self, results_dir: str | Path = DEFAULT_RESULTS, work_dir: str | Path = DEFAULT_WORK
    ) -> None:
        self.results_dir = Path(results_dir)
        self.work_dir = Path(work_dir)

    def fit_record(self, key: str) -> Path:
        return self.results_dir / "fits" / f"{key}.json"

    def fit_work(self, key: str) -> Path:
        return self.work_dir / "fits" / key

    def test_record(self, spec: Spec, row: Row, seed: int) -> Path:
        return self.results_dir / spec.id / spec.scale / slug(row.name) / f"seed{seed}.json"

    def test_work(self, spec: Spec, row: Row, seed: int) -> Path:
        return self.work_dir / spec.id / spec.scale / slug(row.name) / f"seed{seed}"

    def finished_fit(self, key: str) -> dict[str, Any] | None:
        """The fit's record if the fit finished and its checkpoint is still there."""
        record = read(self.fit_record(key))
        return record if record is not None and Path(record["checkpoint"]).is_file() else None

    @staticmethod
    def fresh_work(folder: Path) -> Path:
        """An empty ``folder``: what a half-finished run left there is removed."""
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder


def read(path: Path) -> dict[str, Any] | None:
    """The JSON record at ``path``, or ``None`` if there is none."""
    return json.loads(path.read_text()) if path.is_file() else None


def write(path: Path, record: dict[str, Any]) -> None:
    """Writes ``record`` to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    partial.replace(path)
