"""A tiny spec end to end: runs, resume, and the rendered table against the numbers the runs logged."""

from __future__ import annotations

import json
import statistics

from lit_robust.cli import run_cli
from lit_robust.experiments import ResultStore, Runner, load_spec, render
from lit_robust.experiments.store import read
from tests.experiments.conftest import tiny_spec, write_spec


class CountingCLI:
    """run_cli, counting the fit and test calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, args: list[str]):
        self.calls.append(args[0])
        return run_cli(args)


def test_tiny_spec_runs_resumes_and_renders(workspace):
    spec = load_spec("specs/tiny.yaml")
    store = ResultStore("results", "work")
    cli, lines = CountingCLI(), []
    Runner(spec, store, cli=cli, log=lines.append).run()
    assert cli.calls.count("fit") == 4 and cli.calls.count("test") == 4
    assert any(line.startswith("[4/4]") and "left" in line for line in lines)

    logged = {}
    for row in spec.rows:
        for seed in spec.seeds:
            record = read(store.test_record(spec, row, seed))
            metrics = json.loads((store.test_work(spec, row, seed) / "metrics.json").read_text())
            assert (
                record["metrics"]["test/robust_acc/fgsm/eps=0.1"]
                == metrics["test"]["test/robust_acc/fgsm/eps=0.1"]
            )
            assert record["points"] == {"dataset": 24, "0:RobustnessEvaluation": 20}
            logged[row.name, seed] = record["metrics"]

    table = render(spec, store)
    wide = next(line for line in table.splitlines() if line.startswith("| wide "))
    values = [100 * logged["wide", s]["test/robust_acc/fgsm/eps=0.1"] for s in spec.seeds]
    expected = f"{statistics.fmean(values):.1f} ± {statistics.stdev(values):.1f}"
    assert wide.split(" | ")[1:6] == ["2", "20 of 24", wide.split(" | ")[3], expected, "12.5"]
    assert (
        "lit-robust-experiments table specs/tiny.yaml" in table
        and "lit-robust fit --config tiny.yaml" in table
    )

    # Resume: everything finished is skipped; a killed test (work folder, no record) is redone alone.
    killed_row = spec.rows[1]
    store.test_record(spec, killed_row, 1).unlink()
    (store.test_work(spec, killed_row, 1) / "junk").write_text("left by a killed run")
    cli.calls.clear()
    Runner(spec, store, cli=cli, log=lines.append).run()
    assert cli.calls == ["test"]
    assert not (store.test_work(spec, killed_row, 1) / "junk").exists()
    assert store.test_record(spec, killed_row, 1).is_file()


def test_a_killed_fit_is_redone(workspace):
    spec = load_spec("specs/tiny.yaml")
    store = ResultStore("results", "work")
    cli = CountingCLI()
    Runner(spec, store, cli=cli, log=lambda line: None).run(rows=["wide"], seeds=[0])
    fit = read(next(store.results_dir.glob("fits/*/seed0.json")))
    assert fit["checkpoint"].endswith(".ckpt")
    # A fresh clone (or a fit killed before its record): the record without a checkpoint trains again.
    store.test_record(spec, spec.rows[0], 0).unlink()
    for checkpoint in store.work_dir.glob("fits/**/*.ckpt"):
        checkpoint.unlink()
    cli.calls.clear()
    Runner(spec, store, cli=cli, log=lambda line: None).run(rows=["wide"], seeds=[0])
    assert cli.calls == ["fit", "test"]


def test_a_test_override_of_the_model_reaches_the_tested_model(workspace):
    """A row testing another row's checkpoint with ``test_overrides`` on the model tests the overridden model,
    not the one stored in the checkpoint's hyper-parameters."""
    rows = [
        *tiny_spec()["rows"][:1],
        {
            "name": "smoothed",
            "checkpoint_of": "wide",
            "test_overrides": {"model.init_args.label_smoothing": 0.5},
        },
    ]
    spec = load_spec(write_spec(workspace, tiny_spec(rows=rows), name="override"))
    store = ResultStore("results", "work")
    models = []

    def cli(args: list[str]):
        built = run_cli(args)
        models.append((args[0], built.model.hparams.label_smoothing))
        return built

    Runner(spec, store, cli=cli, log=lambda line: None).run(seeds=[0])
    assert models == [("fit", 0.0), ("test", 0.0), ("test", 0.5)]
