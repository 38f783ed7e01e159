"""Reproduces the AT2L comparison (Li et al. 2019) at a small scale: standard training, plain adversarial
training (Eq. 1), AT2L (Eq. 2) and the triplet regularisation alone, all with the same training attack,
over several seeds; evaluated with FGSM, PGD, PGD with restarts and APGD-CE/DLR (and their worst case).

Prints a markdown table (mean +- std over seeds) and the training time per epoch (wall and process CPU
time, and CPU time relative to standard training, all trained side by side in this process). With
``--results-dir`` each (seed, method) result is saved as JSON there and skipped when the script is run again.
The run in docs/results/at2l.md (the MNIST sample of tools/make_mnist_sample.py, the paper's model A and
MNIST settings)::

    python tools/reproduce_at2l.py --dataset mnist-sample --backbone model-a --eps 0.3 --seeds 0 1 2 \
        --train-size 4000 --test-size 500 --epochs 2 --batch-size 32 --eval-steps 20 --restarts 2 \
        --threads 1 --results-dir /tmp/at2l-results
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from reproduction import load_fashion_mnist_subset, load_mnist_sample_subset, mean_std, timed_fit

from lit_robust.attacks import APGD, FGSM, PGD, Attack
from lit_robust.defenses import AdversarialTraining, RobustClassifier, TripletAdversarialTraining
from lit_robust.evaluation import evaluate_robustness
from lit_robust.losses import TripletRegularizer
from lit_robust.models import MnistModelA, PRBasicCNN

METHODS = ("standard", "adv-training", "at2l", "triplet-only")
DATASETS = {"fashion-mnist": load_fashion_mnist_subset, "mnist-sample": load_mnist_sample_subset}
BACKBONES = {
    "pr-basic-cnn": lambda: PRBasicCNN(in_channels=1, num_classes=10, input_size=28),
    "model-a": MnistModelA,
}


def build(method: str, args: argparse.Namespace, mean: list[float], std: list[float]) -> RobustClassifier:
    """The defense of ``method``, all with the same backbone, optimiser and training attack."""
    common = dict(num_classes=10, mean=mean, std=std)
    backbone = BACKBONES[args.backbone]()
    attack = FGSM(args.eps)
    if method == "standard":
        return RobustClassifier(backbone, **common)
    if method == "adv-training":
        return AdversarialTraining(backbone, attack, adv_weight=args.lambda1, **common)
    if method == "at2l":
        return TripletAdversarialTraining(
            backbone, attack, lambda1=args.lambda1, lambda2=args.lambda2, alpha=args.alpha, **common
        )
    triplet = TripletRegularizer(args.lambda2, args.alpha)
    return AdversarialTraining(backbone, attack, adv_weight=0.0, triplet=triplet, **common)


def evaluation_attacks(eps: float, steps: int, restarts: int) -> dict[str, Attack]:
    """FGSM, PGD, PGD with restarts and APGD-CE/DLR, the iterative ones with ``steps`` steps."""
    return {
        "FGSM": FGSM(eps),
        f"PGD-{steps}": PGD(eps, steps=steps),
        f"PGD-{steps}x{restarts}": PGD(eps, steps=steps, restarts=restarts),
        "APGD-CE": APGD(eps, steps=steps, loss="ce"),
        "APGD-DLR": APGD(eps, steps=steps, loss="dlr"),
    }


def table(results: dict[str, list[dict[str, float]]], columns: list[str]) -> str:
    standard = results.get("standard")
    standard_time = statistics.fmean(r["epoch_cpu_s"] for r in standard) if standard else None
    header = ["method", *columns, "wall s/epoch", "CPU s/epoch", "CPU time vs standard"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, runs in results.items():
        wall = statistics.fmean(r["epoch_s"] for r in runs)
        cpu = statistics.fmean(r["epoch_cpu_s"] for r in runs)
        relative = f"{cpu / standard_time:.2f}x" if standard_time else "-"
        cells = [mean_std([r[c] for r in runs]) for c in columns]
        lines.append("| " + " | ".join([method, *cells, f"{wall:.1f}", f"{cpu:.1f}", relative]) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> str:
    torch.set_num_threads(args.threads)
    load = DATASETS[args.dataset]
    train_set, x_test, y_test, mean, std = load(args.data_dir, args.train_size, args.test_size)
    attacks = evaluation_attacks(args.eps, args.eval_steps, args.restarts)
    columns = ["clean", *attacks, "worst"]
    results: dict[str, list[dict[str, float]]] = {m: [] for m in args.methods}
    for seed in args.seeds:
        for method in args.methods:
            saved = Path(args.results_dir, f"seed{seed}_{method}.json") if args.results_dir else None
            if saved is not None and saved.exists():
                results[method].append(json.loads(saved.read_text()))
                log(f"seed {seed} {method}: loaded from {saved}")
                continue
            L.seed_everything(seed, verbose=False)
            model = build(method, args, mean, std)
            wall_s, cpu_s = timed_fit(model, train_set, args.batch_size, args.epochs, seed)
            epoch_s, epoch_cpu_s = wall_s / args.epochs, cpu_s / args.epochs
            report = evaluate_robustness(
                model, x_test, y_test, attacks=attacks, epsilons=[args.eps], seed=seed
            )
            row = {"epoch_s": epoch_s, "epoch_cpu_s": epoch_cpu_s, "clean": report.clean_accuracy}
            row |= {name: report.accuracy(name, args.eps) for name in [*attacks, "worst"]}
            results[method].append(row)
            if saved is not None:
                saved.parent.mkdir(parents=True, exist_ok=True)
                saved.write_text(json.dumps(row, indent=1))
            log(f"seed {seed} {method}: " + ", ".join(f"{k}={v:.4f}" for k, v in row.items()))
    return table(results, columns)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    parser.add_argument("--backbone", choices=BACKBONES, default="pr-basic-cnn")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--results-dir", help="save each run's JSON here and skip the runs already saved")
    parser.add_argument("--train-size", type=int, default=5000)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32, help="k in the paper (32)")
    parser.add_argument("--eps", type=float, default=0.1, help="L-inf radius of training and evaluation")
    parser.add_argument("--lambda1", type=float, default=0.3)
    parser.add_argument("--lambda2", type=float, default=1.0)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--eval-steps", type=int, default=50, help="steps of PGD and APGD at evaluation")
    parser.add_argument("--restarts", type=int, default=5, help="restarts of the second PGD")
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(run(parse_args()))
