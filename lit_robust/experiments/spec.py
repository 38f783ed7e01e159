"""Experiment specs: the rows, seeds, evaluation overlay, columns and paper numbers of one results table.

A spec is a YAML file (``configs/experiments/<defense>/<table>.yaml``)::

    title: Table 2, PR k=3 by threat-model case     # the table's heading
    paper: Pixel Redrawn, Table 2 (Fashion-MNIST)   # where the paper's numbers come from
    checkpoint: last                                # tested checkpoint of each fit: last or best
    columns:                                        # what the table reports
      - {name: FGSM A, metric: test/pr_cases/A/transfer_acc/fgsm/eps=0.03125}
      - {name: kappa, metric: val/interrater_agreement, scale: 1, digits: 3}
    rows:
      - name: PR k=3                                # one trained model per seed
        config: configs/pixel_redrawn/fashion_mnist_pr_both.yaml
        overrides: {model.init_args.redrawer.init_args.k: 3}   # CLI keys, for fit and test
        paper: {FGSM A: 93.3}                       # the paper's number per column
        metrics: {FGSM A: test/...}                 # this row's metric for a column (default: the column's)
      - name: black-box
        checkpoint_of: PR k=3                       # no training: tests that row's checkpoints
        test_overrides: {...}                       # CLI keys for the test only
        evaluation: [...]                           # this row's own overlay
      - name: held-out source
        seed_offset: 1000                           # trains with seed + 1000 (another model)
    evaluation:                                     # the overlay: the test's callbacks (a list of
      - class_path: RobustnessEvaluation            # class_path/init_args entries, as in trainer.callbacks)
        init_args: {...}
    scales:                                         # what differs between the CPU and the paper scale
      cpu:
        seeds: [0, 1, 2]
        overrides: {trainer.max_epochs: 1}          # for every row, before the row's own
        evaluation: [...]                           # replaces the top-level overlay at this scale
        rows: {PR k=3: {config: ..., overrides: {...}, test_overrides: {...}}}   # merged into the row
        leave_out: [black-box]                      # rows not run at this scale (the budget's choice)
      paper:
        seeds: [0]

Overrides are ``lit-robust`` command-line keys (without ``--``): strings are passed as they are, other values
as JSON. The overlay replaces ``trainer.callbacks`` in the test run (so evaluation-only callbacks do not slow
training); a callback that should also run at validation end while fitting goes in the fit's overrides as
``trainer.callbacks``. A row's own ``evaluation`` replaces the overlay for that row. Adding an evaluation to a
table is one more overlay entry and one more column per number: an AutoAttack preset
(``lit_robust.evaluation.autoattack``, selected by name), for example, is a callback entry (a named
``RobustnessEvaluation``, ``{preset: standard, name: autoattack, epsilons: [0.3]}``, which logs beside the
paper's attacks) and a column naming the metric it logs, ``test/autoattack/robust_acc/worst/eps=0.3``.
Nothing else in the spec or the runner changes.

Strings in the overlay and in ``test_overrides`` may name other runs' checkpoints: ``${checkpoint:ROW}``
(ROW's checkpoint at this seed) and ``${checkpoints:ROW:other-seeds}`` (as a whole value: the list of ROW's
checkpoints at the scale's other seeds; the cross-seed black-box test). ROW must be an earlier row, or the row
itself (its other seeds' models).

A column's ``metric`` is a logged name: ``test/...`` from the test run, ``val/...`` and ``train/...`` from the
end of the fit. A value ``v`` is reported as ``offset + scale * v`` (defaults 0 and 100: accuracies in %;
``offset: 100, scale: -100`` turns an accuracy into an error rate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CHECKPOINT = re.compile(r"\$\{checkpoint:([^}]+)\}")
OTHER_SEEDS = re.compile(r"^\$\{checkpoints:([^}:]+):other-seeds\}$")
SPEC_KEYS = {"title", "paper", "checkpoint", "columns", "rows", "evaluation", "scales"}
ROW_KEYS = {
    "name",
    "config",
    "overrides",
    "test_overrides",
    "evaluation",
    "paper",
    "seed_offset",
    "checkpoint_of",
    "metrics",
}
SCALE_KEYS = {"seeds", "overrides", "evaluation", "rows", "leave_out"}
SCALE_ROW_KEYS = {"config", "overrides", "test_overrides", "evaluation"}
COLUMN_KEYS = {"name", "metric", "scale", "offset", "digits"}


class SpecError(ValueError):
    """A spec that cannot be run; the message names the file and the offending entry."""


@dataclass(frozen=True)
class Column:
    """One reported number: ``offset + scale *`` the logged ``metric``, with ``digits`` decimals."""

    name: str
    metric: str
    scale: float = 100.0
    offset: float = 0.0
    digits: int = 1


@dataclass(frozen=True)
class Row:
    """One row of the table at one scale (top-level entry merged with the scale's)."""

    name: str
    config: str | None
    overrides: dict[str, Any]
    test_overrides: dict[str, Any]
    evaluation: list[Any]
    paper: dict[str, float]
    seed_offset: int = 0
    checkpoint_of: str | None = None
    metrics: dict[str, str] = field(default_factory=dict)

    @property
    def trains(self) -> bool:
        return self.checkpoint_of is None


@dataclass(frozen=True)
class Spec:
    """A parsed, validated spec at one scale."""

    path: Path
    scale: str
    title: str
    paper: str
    checkpoint: str
    seeds: list[int]
    overrides: dict[str, Any]
    rows: list[Row]
    columns: list[Column]
    left_out: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """``<defense>/<table>``: the spec's folder and file name, naming its result files."""
        return f"{self.path.parent.name}/{self.path.stem}"

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)


def load_spec(path: str | Path, scale: str = "cpu") -> Spec:
    """Reads and validates the spec at ``path`` for ``scale``.

    Raises:
        SpecError: naming the file and the entry for every problem found first (unknown keys, a missing
            config, a column or row that does not exist, a reference to a later row).
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file.")
    raw = yaml.safe_load(path.read_text())
    where = str(path)
    _mapping(raw, where, SPEC_KEYS, required={"title", "paper", "columns", "rows", "scales"})
    scales = _mapping(raw["scales"], f"{where}: scales")
    if scale not in scales:
        raise SpecError(f"{where}: no scale {scale!r} (scales: {', '.join(scales)}).")
    chosen = _mapping(scales[scale], f"{where}: scales.{scale}", SCALE_KEYS, required={"seeds"})
    columns = [
        _column(entry, f"{where}: columns[{i}]") for i, entry in enumerate(_list(raw, "columns", where))
    ]
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: column names must be unique, got {names}.")
    scale_rows = _mapping(chosen.get("rows", {}), f"{where}: scales.{scale}.rows")
    evaluation = chosen.get("evaluation", raw.get("evaluation", []))
    rows: list[Row] = []
    for index, entry in enumerate(_list(raw, "rows", where)):
        rows.append(_row(entry, scale_rows, evaluation, names, rows, f"{where}: rows[{index}]"))
    unknown = set(scale_rows) - {r.name for r in rows}
    if unknown:
        raise SpecError(f"{where}: scales.{scale}.rows names rows that do not exist: {sorted(unknown)}.")
    rows, left_out = _leave_out(rows, chosen.get("leave_out", []), f"{where}: scales.{scale}.leave_out")
    seeds = chosen["seeds"]
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)):
        raise SpecError(f"{where}: scales.{scale}.seeds must be a non-empty list of integers, got {seeds!r}.")
    checkpoint = raw.get("checkpoint", "last")
    if checkpoint not in ("last", "best"):
        raise SpecError(f"{where}: checkpoint must be 'last' or 'best', got {checkpoint!r}.")
    return Spec(
        path=path, scale=scale, title=str(raw["title"]), paper=str(raw["paper"]), checkpoint=checkpoint,
        seeds=seeds, overrides=_mapping(chosen.get("overrides", {}), f"{where}: scales.{scale}.overrides"),
        rows=rows, columns=columns, left_out=left_out,
    )  # fmt: skip


def _leave_out(rows: list[Row], names: Any, where: str) -> tuple[list[Row], list[str]]:
    """The rows run at this scale, and the names of those the scale leaves out."""
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise SpecError(f"{where} must be a list of row names, got {names!r}.")
    unknown = set(names) - {r.name for r in rows}
    if unknown:
        raise SpecError(f"{where} names rows that do not exist: {sorted(unknown)}.")
    kept = [r for r in rows if r.name not in names]
    for row in kept:
        needed = [name for name in references(row) if name in names]
        if needed:
            raise SpecError(f"{where}: row {row.name!r} uses the checkpoints of left-out rows {needed}.")
    return kept, list(names)


def _row(
    entry: Any, scale_rows: dict, evaluation: list, columns: list[str], earlier: list[Row], where: str
) -> Row:
    _mapping(entry, where, ROW_KEYS, required={"name"})
    name = entry["name"]
    scaled = _mapping(scale_rows.get(name, {}), f"{where} ({name}) at this scale", SCALE_ROW_KEYS)
    merged = {**entry, **{k: v for k, v in scaled.items() if k != "overrides"}}
    overrides = {
        **_mapping(entry.get("overrides", {}), where),
        **_mapping(scaled.get("overrides", {}), where),
    }
    row = Row(
        name=name,
        config=merged.get("config"),
        overrides=overrides,
        test_overrides=_mapping(merged.get("test_overrides", {}), f"{where}.test_overrides"),
        evaluation=merged.get("evaluation", evaluation),
        paper=_mapping(entry.get("paper", {}), f"{where}.paper"),
        seed_offset=int(entry.get("seed_offset", 0)),
        checkpoint_of=entry.get("checkpoint_of"),
        metrics=_mapping(entry.get("metrics", {}), f"{where}.metrics"),
    )
    if name in {r.name for r in earlier}:
        raise SpecError(f"{where}: a second row named {name!r}.")
    if row.trains and row.config is None:
        raise SpecError(f"{where} ({name}): a row needs a config (or checkpoint_of another row).")
    if row.config is not None and not Path(row.config).is_file():
        raise SpecError(f"{where} ({name}): config {row.config!r} does not exist (paths are relative to the "
                        "repository root, where the runner runs).")  # fmt: skip
    if not isinstance(row.evaluation, list):
        raise SpecError(f"{where} ({name}): evaluation must be a list of callbacks, got {row.evaluation!r}.")
    unknown = (set(row.paper) | set(row.metrics)) - set(columns)
    if unknown:
        raise SpecError(f"{where} ({name}): paper numbers or metrics for unknown columns {sorted(unknown)} "
                        f"(columns: {columns}).")  # fmt: skip
    for reference in references(row):
        target = row if reference == name else next((r for r in earlier if r.name == reference), None)
        if target is None:
            raise SpecError(f"{where} ({name}): refers to row {reference!r}, which is not an earlier row.")
        if not target.trains:
            raise SpecError(f"{where} ({name}): refers to row {reference!r}, which trains no model.")
    return row


def references(row: Row) -> list[str]:
    """The rows whose checkpoints ``row`` uses (``checkpoint_of`` and the placeholders), in order."""
    found = [row.checkpoint_of] if row.checkpoint_of else []
    for text in _strings([row.evaluation, row.test_overrides]):
        found += CHECKPOINT.findall(text)
        found += OTHER_SEEDS.findall(text)
    return list(dict.fromkeys(found))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _column(entry: Any, where: str) -> Column:
    _mapping(entry, where, COLUMN_KEYS, required={"name", "metric"})
    return Column(
        name=str(entry["name"]), metric=str(entry["metric"]), scale=float(entry.get("scale", 100.0)),
        offset=float(entry.get("offset", 0.0)), digits=int(entry.get("digits", 1)),
    )  # fmt: skip


def _list(raw: dict, key: str, where: str) -> list:
    value = raw[key]
    if not isinstance(value, list) or not value:
        raise SpecError(f"{where}: {key} must be a non-empty list.")
    return value


def _mapping(
    value: Any, where: str, allowed: set[str] | None = None, required: set[str] = frozenset()
) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(value).__name__}.")
    if allowed is not None and set(value) - allowed:
        raise SpecError(f"{where}: unknown keys {sorted(set(value) - allowed)} (allowed: {sorted(allowed)}).")
    missing = required - set(value)
    if missing:
        raise SpecError(f"{where}: missing keys {sorted(missing)}.")
    return value
