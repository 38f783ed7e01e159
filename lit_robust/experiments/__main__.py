"""The ``lit-robust-experiments`` command: ``run SPEC`` and ``table SPEC``."""

from __future__ import annotations

import argparse
import sys

from lit_robust.experiments.runner import Runner
from lit_robust.experiments.spec import SpecError, load_spec
from lit_robust.experiments.store import DEFAULT_RESULTS, DEFAULT_WORK, ResultStore
from lit_robust.experiments.table import render


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="lit-robust-experiments", description="Run the experiment specs of configs/experiments and "
        "render their results tables.",
    )  # fmt: skip
    commands = main.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train and test every row x seed of a spec (finished runs skipped)")
    table = commands.add_parser("table", help="print the markdown table of a spec's finished runs")
    for sub in (run, table):
        sub.add_argument("spec", help="the spec YAML, e.g. configs/experiments/at2l/single_model.yaml")
        sub.add_argument("--scale", default="cpu", help="the spec's scale (cpu or paper; default cpu)")
        sub.add_argument("--results-dir", default=str(DEFAULT_RESULTS), help="root of the result records")
    run.add_argument(
        "--dry-run", action="store_true", help="validate every run through the CLI, train nothing"
    )
    run.add_argument("--rows", nargs="+", help="only these rows (names as in the spec)")
    run.add_argument("--seeds", nargs="+", type=int, help="only these seeds")
    run.add_argument("--work-dir", default=str(DEFAULT_WORK), help="root of checkpoints and logs")
    return main


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``lit-robust-experiments`` and ``python -m lit_robust.experiments``."""
    args = parser().parse_args(argv)
    try:
        spec = load_spec(args.spec, args.scale)
        if args.command == "table":
            print(render(spec, ResultStore(args.results_dir)), end="")
            return
        runner = Runner(spec, ResultStore(args.results_dir, args.work_dir))
        if args.dry_run:
            count = runner.dry_run(args.rows, args.seeds)
            print(f"{args.spec} ({args.scale}): {count} argument lists valid")
        else:
            runner.run(args.rows, args.seeds)
    except SpecError as error:
        print(f"lit-robust-experiments: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
