"""Runs a spec: every row x seed through ``lit_robust.cli.run_cli`` (``fit``, then ``test`` on the chosen
checkpoint), one result record per run, finished runs skipped, half-finished ones redone."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lit_robust.cli import run_cli
from lit_robust.experiments.commands import fit_args, fit_key, shell_command, test_args, trained_row
from lit_robust.experiments.spec import Row, Spec, SpecError
from lit_robust.experiments.store import ResultStore, read, write
from lit_robust.experiments.validate import rejection

CLI = Callable[[list[str]], Any]


def metrics_callback(folder: Path) -> dict[str, Any]:
    """The :class:`~lit_robust.callbacks.MetricsFile` entry that writes a run's numbers into ``folder``."""
    return {
        "class_path": "lit_robust.callbacks.MetricsFile",
        "init_args": {"path": str(folder / "metrics.json")},
    }


def run_settings(folder: Path) -> list[str]:
    """Arguments every run gets: its TensorBoard logs and files in ``folder``, no progress bar."""
    logger = {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        "init_args": {"save_dir": str(folder), "name": "", "version": ""},
    }
    return [f"--trainer.logger={json.dumps(logger)}", f"--trainer.default_root_dir={folder}",
            "--trainer.enable_progress_bar=false"]  # fmt: skip


class Runner:
    """Runs, or validates, the runs of one spec.

    Args:
        spec: the spec at one scale.
        store: where records and work files go.
        cli: the ``lit-robust`` entry point called with each run's arguments (``run_cli``).
        log: receives the progress lines.
    """

    def __init__(
        self,
        spec: Spec,
        store: ResultStore,
        cli: CLI = run_cli,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self.spec = spec
        self.store = store
        self.cli = cli
        self.log = log

    def select(self, rows: Sequence[str] | None, seeds: Sequence[int] | None) -> tuple[list[Row], list[int]]:
        """The chosen rows (all when ``None``) and seeds (the scale's when ``None``)."""
        names = [r.name for r in self.spec.rows]
        unknown = sorted(set(rows or []) - set(names)) + sorted(set(seeds or []) - set(self.spec.seeds))
        if unknown:
            raise SpecError(f"{self.spec.path}: unknown rows or seeds {unknown} (rows {names}, seeds "
                            f"{self.spec.seeds}).")  # fmt: skip
        return [r for r in self.spec.rows if rows is None or r.name in rows], list(seeds or self.spec.seeds)

    def run(self, rows: Sequence[str] | None = None, seeds: Sequence[int] | None = None) -> None:
        """Runs each chosen row at each chosen seed whose record is missing; logs progress."""
        chosen, chosen_seeds = self.select(rows, seeds)
        runs = [(row, seed) for row in chosen for seed in chosen_seeds]
        start, executed = time.perf_counter(), 0
        for done, (row, seed) in enumerate(runs, start=1):
            if self.store.test_record(self.spec, row, seed).is_file():
                self.log(f"[{done}/{len(runs)}] {row.name}, seed {seed}: finished before, skipped")
                continue
            self.test(row, seed)
            executed += 1
            elapsed = time.perf_counter() - start
            left = elapsed / executed * (len(runs) - done)
            self.log(f"[{done}/{len(runs)}] {row.name}, seed {seed}: done; elapsed {_clock(elapsed)}, "
                     f"about {_clock(left)} left")  # fmt: skip

    def checkpoint(self, name: str, seed: int) -> str:
        """The checkpoint of row ``name`` at ``seed``, trained first if its fit has not finished."""
        row = self.spec.row(name)
        key = fit_key(self.spec, row, seed)
        record = self.store.finished_fit(key) or self._fit(row, seed, key)
        return record["checkpoint"]

    def test(self, row: Row, seed: int) -> dict[str, Any]:
        """Tests ``row`` at ``seed`` (training what it needs) and writes its record."""
        work = self.store.fresh_work(self.store.test_work(self.spec, row, seed))
        args = test_args(self.spec, row, seed, self.checkpoint, [metrics_callback(work)])
        start = time.perf_counter()
        self.cli([*args, *run_settings(work)])
        seconds = time.perf_counter() - start
        trained = trained_row(self.spec, row)
        fit = read(self.store.fit_record(fit_key(self.spec, trained, seed)))
        logged = _logged(work)
        record = {
            "row": row.name,
            "seed": seed,
            "metrics": {**fit["metrics"], **logged["test"]},
            "points": logged["points"],
            "seconds": {"fit": fit["seconds"], "test": round(seconds, 1)},
            "commands": {"fit": fit["command"], "test": shell_command(args)},
        }
        write(self.store.test_record(self.spec, row, seed), record)
        return record

    def dry_run(self, rows: Sequence[str] | None = None, seeds: Sequence[int] | None = None) -> int:
        """Validates the ``fit`` and ``test`` arguments of each chosen row through the CLI's parser
        (:func:`~lit_robust.experiments.validate.rejection`: nothing is built or trained), at the first seed
        (the other seeds differ only in ``--seed_everything`` and checkpoint paths). Returns the number of
        argument lists checked.

        Raises:
            SpecError: with the CLI's message, for the first run the CLI rejects.
        """
        chosen, chosen_seeds = self.select(rows, seeds)
        seed, checked = chosen_seeds[0], 0
        for row in chosen:
            placeholder = lambda name, s: f"<checkpoint of {name}, seed {s}>"  # noqa: E731
            work = Path("<work>")
            lists = [fit_args(self.spec, row, seed)] if row.trains else []
            lists.append(test_args(self.spec, row, seed, placeholder, [metrics_callback(work)]))
            for args in lists:
                self._validate(row, [*args, *run_settings(work)])
                checked += 1
        return checked

    def _fit(self, row: Row, seed: int, key: str) -> dict[str, Any]:
        work = self.store.fresh_work(self.store.fit_work(key))
        args = fit_args(self.spec, row, seed)
        self.log(f"training {row.name}, seed {seed}: {shell_command(args)}")
        start = time.perf_counter()
        cli = self.cli(
            [*args, f"--trainer.callbacks+={json.dumps(metrics_callback(work))}", *run_settings(work)]
        )
        record = {
            "checkpoint": _checkpoint(cli.trainer, self.spec.checkpoint),
            "metrics": _logged(work)["fit"],
            "seconds": round(time.perf_counter() - start, 1),
            "command": shell_command(args),
        }
        write(self.store.fit_record(key), record)
        return record

    def _validate(self, row: Row, args: list[str]) -> None:
        message = rejection(args)
        if message is not None:
            raise SpecError(
                f"{self.spec.path} ({row.name}): lit-robust rejects {shell_command(args)}:\n{message}"
            )


def _checkpoint(trainer: Any, which: str) -> str:
    callback = trainer.checkpoint_callback
    path = None if callback is None else (callback.best_model_path if which == "best" else
                                          callback.last_model_path or callback.best_model_path)  # fmt: skip
    if not path:
        raise SpecError(f"the fit saved no {which} checkpoint: keep a ModelCheckpoint in trainer.callbacks.")
    return str(path)


def _logged(work: Path) -> dict[str, Any]:
    logged = read(work / "metrics.json")
    if logged is None:
        raise RuntimeError(f"the run wrote no {work / 'metrics.json'}; did it finish?")
    return logged


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
