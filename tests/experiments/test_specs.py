"""Every committed spec passes the dry run at both scales; broken specs fail with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_robust.experiments import ResultStore, Runner, SpecError, load_spec, render
from tests.experiments.conftest import tiny_spec, write_spec

ROOT = Path(__file__).parents[2]
SPECS = sorted((ROOT / "configs" / "experiments").rglob("*.yaml"))
DOCUMENTS = sorted((ROOT / "docs" / "results").glob("*.md"))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_spec_passes_the_dry_run_at_both_scales(spec, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    for scale in ("cpu", "paper"):
        loaded = load_spec(spec.relative_to(ROOT), scale)
        assert Runner(loaded, ResultStore(tmp_path, tmp_path)).dry_run() >= len(loaded.rows)


def test_every_results_document_names_only_existing_specs():
    for document in DOCUMENTS:
        command = "lit-robust-experiments table "
        named = {part.split("`")[0] for line in document.read_text().splitlines()
                 for part in line.split(command)[1:] if part.startswith("configs/")}  # fmt: skip
        assert named, document
        assert all((ROOT / path).is_file() for path in named), (document, named)


def test_the_dry_run_reports_the_cli_error(workspace):
    spec = tiny_spec(evaluation=[{"class_path": "RobustnessEvaluation", "init_args": {"num_samplez": 3}}])
    path = write_spec(workspace, spec, "broken")
    with pytest.raises(SpecError, match=r"wide.*lit-robust rejects"):
        Runner(load_spec(path), ResultStore("results", "work")).dry_run()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colums": []}, "unknown keys \\['colums'\\]"),
        ({"rows": [{"name": "x", "config": "missing.yaml"}]}, "config 'missing.yaml' does not exist"),
        (
            {"rows": [{"name": "x", "config": "tiny.yaml", "paper": {"nope": 1}}]},
            "unknown columns \\['nope'\\]",
        ),
        ({"rows": [{"name": "x", "checkpoint_of": "y"}]}, "refers to row 'y'"),
        ({"scales": {"paper": {"seeds": [0]}}}, "no scale 'cpu'"),
        ({"scales": {"cpu": {"seeds": []}}}, "seeds must be a non-empty list"),
        ({"scales": {"cpu": {"seeds": [0], "leave_out": ["nope"]}}}, "rows that do not exist: \\['nope'\\]"),
        ({"scales": {"cpu": {"seeds": [0], "leave_out": "wide"}}}, "must be a list of row names"),
        (
            {
                "rows": [{"name": "wide", "config": "tiny.yaml"}, {"name": "again", "checkpoint_of": "wide"}],
                "scales": {"cpu": {"seeds": [0], "leave_out": ["wide"]}},
            },
            "row 'again' uses the checkpoints of left-out rows \\['wide'\\]",
        ),
    ],
)
def test_invalid_specs_name_the_problem(workspace, changes, message):
    path = write_spec(workspace, tiny_spec(**changes), "invalid")
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_scales_merge_rows_and_placeholders_resolve(workspace):
    spec = tiny_spec(
        rows=[
            {"name": "wide", "config": "tiny.yaml", "overrides": {"trainer.max_epochs": 1}},
            {"name": "transfer", "checkpoint_of": "wide",
             "evaluation": [{"source": "${checkpoints:wide:other-seeds}", "one": "${checkpoint:wide}"}]},
        ],
        scales={"cpu": {"seeds": [0, 1, 2], "rows": {"wide": {"overrides": {"trainer.max_epochs": 3}}}}},
    )  # fmt: skip
    loaded = load_spec(write_spec(workspace, spec, "merged"))
    assert loaded.rows[0].overrides == {"trainer.max_epochs": 3}
    from lit_robust.experiments.commands import test_args

    args = test_args(loaded, loaded.rows[1], 1, lambda row, seed: f"{row}@{seed}", [])
    assert '"source": ["wide@0", "wide@2"]' in args[-2] and '"one": "wide@1"' in args[-2]
    assert args[-1] == "--ckpt_path=wide@1" and "--trainer.max_epochs=3" in args


def test_a_scale_leaves_rows_out_and_the_table_says_so(workspace):
    spec = tiny_spec(scales={"cpu": {"seeds": [0], "leave_out": ["narrow"]}, "paper": {"seeds": [0]}})
    path = write_spec(workspace, spec, "left_out")
    cpu, paper = load_spec(path), load_spec(path, "paper")
    assert [r.name for r in cpu.rows] == ["wide"] and cpu.left_out == ["narrow"]
    assert [r.name for r in paper.rows] == ["wide", "narrow"] and paper.left_out == []
    table = render(cpu, ResultStore("results", "work"))
    assert "Not run at this scale: narrow" in table and "| narrow |" not in table
    assert "Not run at this scale" not in render(paper, ResultStore("results", "work"))
