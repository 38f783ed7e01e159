"""Accuracy tables as text: one row per attack (and the worst case), one column per epsilon."""

from __future__ import annotations

import math

from lit_robust.evaluation.plan import format_eps
from lit_robust.evaluation.results import MEASURES, Column, Summary


def accuracy_table(summary: Summary) -> list[str]:
    """The accuracies against epsilon of ``summary`` (kinds whose measure is a ``curve``) as aligned lines:
    a header ``attack eps=...``, then one row per attack in the summary's order, ``worst`` included; empty
    cells where an attack has no number at that epsilon. ``own eps`` heads the column of attacks run
    without an epsilon."""
    accuracies = {c: v for c, v in summary.items() if MEASURES[c.kind].curve}
    epsilons = sorted({c.eps for c in accuracies}, key=lambda e: -math.inf if e is None else e)
    header = ["attack", *("own eps" if e is None else f"eps={format_eps(e)}" for e in epsilons)]
    table = [header]
    for kind, attack in dict.fromkeys((c.kind, c.attack) for c in accuracies):
        label = f"{attack} (transfer)" if kind == "transfer_acc" else attack
        cells = [summary.get(Column(kind, attack, e)) for e in epsilons]
        table.append([label, *("" if v is None else f"{v:.2%}" for v in cells)])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return [
        "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])
        for row in table
    ]
