"""The markdown table of a spec: the paper's number, ours as mean ± std over seeds, points, commands."""

from __future__ import annotations

import statistics
from typing import Any

from lit_robust.experiments.commands import fit_args, shell_command
from lit_robust.experiments.spec import Column, Row, Spec
from lit_robust.experiments.store import ResultStore, read


def mean_std(values: list[float], digits: int) -> str:
    """``mean ± sample std`` (the mean alone for one value), ``-`` for none."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def cell(records: list[dict[str, Any]], column: Column, metric: str) -> str:
    """Column ``column`` (``metric`` logged) of the records of one row (records without it are left out)."""
    values = [r["metrics"][metric] for r in records if r["metrics"].get(metric) is not None]
    return mean_std([column.offset + column.scale * v for v in values], column.digits)


def points(records: list[dict[str, Any]]) -> str:
    """The evaluated points of a row: the attacked subsets' sizes, then the whole test set's."""
    sizes = {k: v for r in records for k, v in r["points"].items()}
    subsets = sorted({v for k, v in sizes.items() if k != "dataset"})
    whole = f"{sizes['dataset']:,}" if "dataset" in sizes else "?"
    return f"{' / '.join(f'{s:,}' for s in subsets)} of {whole}" if subsets else whole


def render(spec: Spec, store: ResultStore) -> str:
    """The spec's table from the records in ``store``, with the commands that make and render it."""
    shown = [(c, any(c.name in r.paper for r in spec.rows)) for c in spec.columns]
    header = ["row", "seeds", "points"]
    for column, has_paper in shown:
        header += [column.name, "paper"] if has_paper else [column.name]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    commands = []
    for row in spec.rows:
        records = [r for r in (read(store.test_record(spec, row, s)) for s in spec.seeds) if r is not None]
        cells = [row.name, str(len(records)), points(records) if records else "-"]
        for column, has_paper in shown:
            cells.append(cell(records, column, row.metrics.get(column.name, column.metric)))
            if has_paper:
                cells.append(_paper(row, column))
        lines.append("| " + " | ".join(cells) + " |")
        commands.append(f"- {row.name}: {_commands(spec, row, records)}")
    scale = f" --scale {spec.scale}" if spec.scale != "cpu" else ""
    intro = (
        f"{spec.title}. Paper: {spec.paper}. Ours: mean ± sample std over seeds {spec.seeds} (the `seeds` "
        f"column counts those finished), each `paper` column the paper's number for the column on its left; "
        f"points: attacked subset of the test set. Rendered by "
        f"`lit-robust-experiments table {spec.path}{scale}` from the runs of "
        f"`lit-robust-experiments run {spec.path}{scale}`."
    )
    if spec.left_out:
        intro += f" Not run at this scale: {', '.join(spec.left_out)} (the spec's `leave_out`)."

    return "\n".join([intro, "", *lines, "", f"Commands (seed {spec.seeds[0]}):", "", *commands]) + "\n"


def _paper(row: Row, column: Column) -> str:
    value = row.paper.get(column.name)
    return "-" if value is None else f"{value:g}"


def _commands(spec: Spec, row: Row, records: list[dict[str, Any]]) -> str:
    if records:
        first = records[0]["commands"]
        return f"`{first['fit']}`, then `{first['test']}`"
    if row.trains:
        return f"`{shell_command(fit_args(spec, row, spec.seeds[0]))}` (not run yet)"
    return f"tests the checkpoints of {row.checkpoint_of} (not run yet)"
