"""The quick start: train a config, test its best checkpoint, and say where the TensorBoard logs are.

python tools/demo.py --config configs/quickstart.yaml [any other lit-robust fit arguments]
"""

from __future__ import annotations

import argparse
import sys

from lit_robust.cli import run_cli


def run(argv: list[str]) -> float:
    """Fits with ``lit-robust fit ARGV``, tests the best checkpoint and returns the test accuracy."""
    cli = run_cli(["fit", *argv])
    assert cli is not None
    trainer = cli.trainer
    results = trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path="best", verbose=False)
    metrics = results[0]
    accuracy = float(metrics["test/acc"])
    print("\nTest-set results of the best checkpoint:")
    for name, value in sorted(metrics.items()):
        print(f"  {name:<45} {value:.4f}")
    log_dir = trainer.logger.log_dir if trainer.logger is not None else None
    print(f"\ntest accuracy: {accuracy:.4f}")
    if log_dir:
        print(f"TensorBoard logs: {log_dir}")
        print(
            f"Open them with:   .venv/bin/tensorboard --logdir {log_dir}   (then browse to http://localhost:6006)"
        )
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True, help="a lit-robust YAML config")
    known, rest = parser.parse_known_args()
    run(["--config", known.config, *rest])
    sys.exit(0)
