"""Reproduces the constant-perturbation comparison (Chernyak et al., Tables 4-7) at a scale a CPU affords.

Trains, for every seed, standard training, variable perturbations (fresh U(-eps, eps) noise every batch,
perturbed images only: the paper's setting B) and constant perturbations with K in {1, 5, 10} (clean images
included, so K=10 trains on 11 x the data per epoch, as in the paper, where every setting gets the same
number of epochs). The seed sets the initialisation, the shuffling and the perturbations. Every model is
evaluated white-box with :func:`lit_robust.evaluation.evaluate_robustness` on the first ``--test-size``
test images: FGSM and PGD-20/40/100 with the paper's step, then APGD-CE and PGD with restarts, and the
per-point worst case over all of them (the honest number). Prints a markdown table, mean ± std over seeds.

    python tools/reproduce_constant_perturbations.py --data-dir data --seeds 0 1 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch

from lit_robust.attacks import APGD, FGSM, PGD
from lit_robust.data import ConstantPerturbations, FashionMNIST, InMemoryImageDataModule
from lit_robust.defenses import RobustClassifier, VariablePerturbations
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import LeNet5

FASHION_MNIST_TRAIN = 60000


def subset(args: argparse.Namespace) -> FashionMNIST:
    """Fashion-MNIST whose training split is ``--train-size`` images (the rest is an unused hold-out)."""
    return FashionMNIST(
        data_dir=args.data_dir, batch_size=args.batch_size, val_size=FASHION_MNIST_TRAIN - args.train_size
    )


def model_for(setting: str, args: argparse.Namespace) -> RobustClassifier:
    base = subset(args)
    common = dict(
        num_classes=base.num_classes,
        mean=list(base.mean),
        std=list(base.std),
        optimizer=lambda params: torch.optim.Adam(params, lr=args.lr),
    )
    backbone = LeNet5(hidden=1024, dropout=0.5)
    if setting == "variable":
        return VariablePerturbations(backbone, eps=args.pert_eps, **common)
    return RobustClassifier(backbone, **common)


def data_for(setting: str, seed: int, args: argparse.Namespace) -> InMemoryImageDataModule:
    if setting.startswith("K="):
        copies = int(setting[2:])
        return ConstantPerturbations(
            subset(args), copies=copies, eps=args.pert_eps, seed=seed, progress=False
        )
    return subset(args)


def attacks(args: argparse.Namespace) -> dict[str, Callable]:
    eps, step = args.attack_eps, args.step
    return {
        "FGSM": FGSM(eps),
        "PGD-20": PGD(eps, steps=20, step_size=step),
        "PGD-40": PGD(eps, steps=40, step_size=step),
        "PGD-100": PGD(eps, steps=100, step_size=step),
        "APGD-CE": APGD(eps, steps=args.apgd_steps),
        f"PGD-{args.restart_steps}x{args.restarts}": PGD(
            eps, steps=args.restart_steps, step_size=2.5 * eps / args.restart_steps, restarts=args.restarts
        ),
    }


def run(setting: str, seed: int, args: argparse.Namespace, test: tuple[torch.Tensor, torch.Tensor]) -> dict:
    """Trains and evaluates one model; returns its accuracies (fractions) with the setting and seed."""
    L.seed_everything(seed, verbose=False)
    model, data = model_for(setting, args), data_for(setting, seed, args)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=data)
    train_seconds = time.perf_counter() - start
    report = evaluate_robustness(model, *test, attacks=attacks(args), epsilons=[args.attack_eps], seed=seed)
    row = {"setting": setting, "seed": seed, "train_s": round(train_seconds), "eval_s": round(report.seconds)}
    row["clean"] = report.clean_accuracy
    row |= {name: report.accuracy(name, args.attack_eps) for name in attacks(args)}
    row["worst"] = report.accuracy("worst", args.attack_eps)
    return row


def table(rows: list[dict]) -> str:
    """Markdown table of the accuracies in %, mean ± sample standard deviation over seeds, by setting."""
    results: dict[str, list[dict]] = {}
    for row in rows:
        results.setdefault(row["setting"], []).append(row)
    columns = [c for c in rows[0] if c not in ("setting", "seed", "train_s", "eval_s")]
    lines = ["| setting | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for setting, rows in results.items():
        cells = []
        for column in columns:
            values = [100 * row[column] for row in rows]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.1f} ± {spread:.1f}")
        lines.append(f"| {setting} (n={len(rows)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", default=["standard", "variable", "K=1", "K=5", "K=10"])
    parser.add_argument("--train-size", type=int, default=5000, help="Fashion-MNIST training images used")
    parser.add_argument("--test-size", type=int, default=500, help="test images attacked")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--pert-eps", type=float, default=0.2, help="bound of the training perturbations")
    parser.add_argument("--attack-eps", type=float, default=0.1)
    parser.add_argument("--step", type=float, default=0.01, help="PGD step size (the paper's MNIST step)")
    parser.add_argument("--apgd-steps", type=int, default=100)
    parser.add_argument("--restart-steps", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy CPU)")
    parser.add_argument("--jsonl", help="append every model's results to this file, one JSON line each")
    parser.add_argument("--summarize", nargs="+", help="only print the table of these --jsonl files")
    args = parser.parse_args()
    if args.summarize:
        lines = [line for path in args.summarize for line in Path(path).read_text().splitlines()]
        print(table([json.loads(line) for line in lines]))
        return
    torch.set_num_threads(args.threads)

    test_data = subset(args)
    test_data.setup("test")
    images, labels = test_data.test_data
    test = (images[: args.test_size].float() / 255, labels[: args.test_size])
    rows = []
    for setting in args.settings:
        for seed in args.seeds:
            rows.append(run(setting, seed, args, test))
            print(json.dumps(rows[-1]), flush=True)
            if args.jsonl:
                with open(args.jsonl, "a") as file:
                    file.write(json.dumps(rows[-1]) + "\n")
    print(f"\nFashion-MNIST, {args.train_size} training images, {args.epochs} epochs, seeds {args.seeds};")
    print(f"white-box, eps={args.attack_eps}, first {args.test_size} test images; accuracy in %\n")
    print(table(rows))


if __name__ == "__main__":
    main()
