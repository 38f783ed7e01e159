"""Per-point records: where each point broke, by which attack, its margin; the exported file."""

from __future__ import annotations

import csv
import json
import math

import torch

from lit_robust.evaluation import evaluate_robustness
from tests.evaluation.conftest import FlagAttack


def test_each_point_records_the_smallest_eps_and_the_first_attack_that_broke_it(code, tmp_path):
    model, x, y = code
    a, b = FlagAttack(0.3, flag=1), FlagAttack(0.3, flag=2)
    report = evaluate_robustness(model, x, y, {"a": a, "b": b}, [0.1, 0.3], batch_size=64)
    clean = model(x).argmax(dim=1) == y
    flag_a, flag_b = x[:, 0, 0, 1] > 0.5, x[:, 0, 0, 2] > 0.5
    records = report.records
    broken = clean & (flag_a | flag_b)
    assert torch.equal(records.eps == 0, ~clean)
    assert torch.equal(records.eps == 0.3, broken) and records.eps[clean & ~broken].isinf().all()
    by = [records.names[i] if i >= 0 else "" for i in records.attack.tolist()]
    assert all(n == "a" for n, hit in zip(by, (clean & flag_a).tolist(), strict=True) if hit)
    assert all(n == "b" for n, hit in zip(by, (clean & flag_b & ~flag_a).tolist(), strict=True) if hit)
    assert (records.margin[broken] < 0).all() and (records.margin[clean & ~broken] > 0).all()
    assert (records.margin[~clean] < 0).all()

    rows = list(csv.DictReader(report.records.save(tmp_path / "records.csv").open()))
    assert len(rows) == len(y) and set(rows[0]) == {"index", "label", "broken_eps", "broken_by", "margin"}
    first_broken = int(broken.nonzero()[0])
    assert rows[first_broken]["broken_eps"] == "0.3" and rows[first_broken]["broken_by"] in ("a", "b")
    misclassified = int((~clean).nonzero()[0])
    assert rows[misclassified]["broken_by"] == "clean" and float(rows[misclassified]["broken_eps"]) == 0
    saved = json.loads(report.records.save(tmp_path / "records.json").read_text())
    assert saved[first_broken]["broken_eps"] == 0.3 and math.isinf(
        saved[int((clean & ~broken).nonzero()[0])]["broken_eps"]
    )


def test_records_of_blocks_and_of_the_cascade_agree(code):
    model, x, y = code
    attacks = {"a": FlagAttack(0.3, flag=1), "b": FlagAttack(0.3, flag=2)}
    one = evaluate_robustness(model, x, y, attacks, [0.1, 0.3], batch_size=1000).records
    cascade = evaluate_robustness(model, x, y, attacks, [0.1, 0.3], batch_size=64, worst_case_only=True)
    assert torch.equal(one.eps, cascade.records.eps) and torch.equal(one.attack, cascade.records.attack)
