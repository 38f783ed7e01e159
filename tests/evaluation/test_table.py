"""`accuracy_table`: attacks by rows, epsilons by columns, aligned."""

from __future__ import annotations

from lit_robust.evaluation.results import Column
from lit_robust.evaluation.table import accuracy_table


def test_rows_follow_the_summary_and_missing_cells_stay_empty():
    summary = {
        Column("clean_acc"): 0.9,
        Column("robust_acc", "fgsm", 0.1): 0.5,
        Column("robust_acc", "pgd", 0.05): 0.625,
        Column("robust_acc", "pgd", 0.1): 0.25,
        Column("robust_acc", "worst", 0.1): 0.25,
        Column("transfer_acc", "fgsm", 0.1): 0.75,
        Column("rho", "deepfool"): 0.1,
    }
    lines = accuracy_table(summary)
    assert [line.split() for line in lines] == [
        ["attack", "eps=0.05", "eps=0.1"],
        ["fgsm", "50.00%"],
        ["pgd", "62.50%", "25.00%"],
        ["worst", "25.00%"],
        ["fgsm", "(transfer)", "75.00%"],
    ]
    assert len({len(line.rstrip()) for line in lines if "%" in line.split()[-1]}) == 1  # right-aligned
