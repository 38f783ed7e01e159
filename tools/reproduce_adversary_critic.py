"""Reproduces the adversary-critic comparison (Matyasko and Chau 2018, Table 1) at a small scale: reference
(standard training), adversarial training (FGSM, eps 0.1), VAT (L2 eps 2.0) and the adversary-critic
defense, for the fully connected network and LeNet-5, over several seeds.

Each trained model is evaluated on the first ``--test-size`` test images: test error; rho (mean
``||r||_2 / ||x||_2``) under the paper's three attacks, DeepFool, C&W L2 and the high-confidence attack
(with fewer iterations than the paper, set below), and under the per-point smallest of the three; the
share of points each attack failed on; and, from the strongest attacks we have, the worst-case L2 robust
accuracy over those three and APGD-CE (L2) at ``--l2-eps``. The training cost per epoch is measured in
this process side by side (process CPU time, relative to the reference run of the same seed and network).

Each (network, method, seed) result is saved as JSON in ``--results-dir`` and skipped when the script is run
again. Prints a markdown table (mean ± std over seeds). The runs in docs/results/adversary_critic.md (the
MNIST sample of tools/make_mnist_sample.py)::

    python tools/reproduce_adversary_critic.py --seeds 0 1 2 --train-size 4000 --test-size 200 --epochs 4 \
        --mlp-width 512 --critic-width 512 --threads 1 --results-dir /tmp/critic-results
    python tools/reproduce_adversary_critic.py --networks mlp --seeds 0 1 2 --train-size 4000 \
        --test-size 200 --epochs 10 --mlp-width 512 --critic-width 512 --threads 1 \
        --results-dir /tmp/critic-results-10ep

The defaults of ``--mlp-width`` and ``--critic-width`` are the paper's 1200.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lightning as L
import torch
from reproduction import load_mnist_sample_subset, mean_std, timed_fit
from torch import Tensor

from lit_robust.attacks import APGD, FGSM, CarliniWagnerL2, DeepFool, HighConfidence
from lit_robust.defenses import (
    AdversarialTraining,
    AdversaryCritic,
    RobustClassifier,
    VirtualAdversarialTraining,
)
from lit_robust.evaluation import evaluate_robustness
from lit_robust.evaluation.report import RobustnessReport
from lit_robust.models import MLP, Critic, LeNet5

METHODS = ("reference", "adv-training", "vat", "critic")
NETWORKS = ("mlp", "lenet5")
MIN_NORM = ("deepfool", "cw", "high_confidence")
LAMBDA = {"mlp": 0.5, "lenet5": 0.1}  # the paper's lambda per network


def backbone(network: str, args: argparse.Namespace) -> torch.nn.Module:
    if network == "mlp":
        return MLP(hidden_sizes=[args.mlp_width] * 3)
    return LeNet5(hidden=512, padding=0)  # valid convolutions, as the authors' code


def build(
    network: str, method: str, args: argparse.Namespace, mean: list[float], std: list[float]
) -> L.LightningModule:
    """The defense of ``method`` on ``network``; the baselines with Adam 1e-3, the critic with the paper's
    optimisers."""
    common = dict(num_classes=10, mean=mean, std=std)
    net = backbone(network, args)
    if method == "reference":
        return RobustClassifier(net, **common)
    if method == "adv-training":
        return AdversarialTraining(net, FGSM(0.1), adv_weight=1.0, **common)
    if method == "vat":
        return VirtualAdversarialTraining(net, eps=2.0, **common)
    return AdversaryCritic(
        net,
        Critic(hidden_sizes=[args.critic_width] * 2),
        lambda_gan=LAMBDA[network],
        pretrain_epochs=args.pretrain_epochs,
        optimizer=partial(torch.optim.Adam, lr=5e-4, betas=(0.5, 0.999)),
        critic_optimizer=partial(torch.optim.Adam, lr=1e-3, betas=(0.5, 0.999)),
        **common,
    )


def evaluation_attacks(args: argparse.Namespace) -> dict:
    """The paper's three minimum-norm L2 attacks (reduced iterations) and APGD-CE in L2."""
    return {
        "deepfool": DeepFool(steps=args.deepfool_steps, max_step_norm=0.1),
        "cw": CarliniWagnerL2(
            c=args.cw_c, binary_search_steps=args.cw_binary_steps, steps=args.cw_steps, lr=args.cw_lr
        ),
        "high_confidence": HighConfidence(steps=args.hc_steps, max_step_norm=0.1),
        "apgd": APGD(max(args.l2_eps), norm="L2", steps=args.apgd_steps),
    }


def smallest_rho(report: RobustnessReport) -> float:
    """Mean over points of the smallest rho the three attacks found (points all three failed on left out)."""
    values = torch.stack([report.white_box.rho[name] for name in MIN_NORM]).nan_to_num(nan=math.inf)
    best: Tensor = values.min(dim=0).values
    return best[best.isfinite()].double().mean().item()


def evaluate(model: L.LightningModule, x: Tensor, y: Tensor, args: argparse.Namespace, seed: int) -> dict:
    report = evaluate_robustness(
        model, x, y, attacks=evaluation_attacks(args), epsilons=args.l2_eps, norm="L2", batch_size=100,
        seed=seed,
    )  # fmt: skip
    metrics = report.to_dict()["metrics"]
    row = {"error": 1 - report.clean_accuracy, "rho_min": smallest_rho(report)}
    for name in MIN_NORM:
        row[f"rho_{name}"] = metrics[f"rho/{name}"]
        row[f"failed_{name}"] = metrics[f"robust_acc/{name}/eps=inf"]
    for eps in args.l2_eps:
        row[f"worst_acc_eps{eps:g}"] = metrics[f"robust_acc/worst/eps={eps:g}"]
    row["eval_s"] = report.seconds
    return row


def table(results: dict[tuple[str, str], list[dict]], args: argparse.Namespace) -> str:
    columns = [
        "error",
        *(f"rho_{n}" for n in MIN_NORM),
        "rho_min",
        *(f"worst_acc_eps{e:g}" for e in args.l2_eps),
    ]
    header = ["network", "method", "n", *columns, "CPU s/epoch", "vs reference"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (network, method), runs in results.items():
        reference = results.get((network, "reference"), [])
        cpu = statistics.fmean(r["epoch_cpu_s"] for r in runs)
        ratio = f"{cpu / statistics.fmean(r['epoch_cpu_s'] for r in reference):.1f}x" if reference else "-"
        cells = [mean_std([r[c] for r in runs], 1.0, 3) for c in columns]
        lines.append("| " + " | ".join([network, method, str(len(runs)), *cells, f"{cpu:.1f}", ratio]) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> str:
    torch.set_num_threads(args.threads)
    train_set, x_test, y_test, mean, std = load_mnist_sample_subset(
        args.data_dir, args.train_size, args.test_size
    )
    results: dict[tuple[str, str], list[dict]] = {(n, m): [] for n in args.networks for m in args.methods}
    out = Path(args.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for network in args.networks:
            for method in args.methods:
                saved = out / f"{network}_{method}_seed{seed}.json"
                if saved.exists():
                    results[(network, method)].append(json.loads(saved.read_text()))
                    log(f"{saved.name}: loaded")
                    continue
                L.seed_everything(seed, verbose=False)
                model = build(network, method, args, mean, std)
                wall_s, cpu_s = timed_fit(model, train_set, args.batch_size, args.epochs, seed)
                row = {"epoch_s": wall_s / args.epochs, "epoch_cpu_s": cpu_s / args.epochs}
                row |= evaluate(model.eval(), x_test, y_test, args, seed)
                saved.write_text(json.dumps(row, indent=1))
                results[(network, method)].append(row)
                log(f"{saved.name}: " + ", ".join(f"{k}={v:.4g}" for k, v in row.items()))
    return table(results, args)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=list(NETWORKS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=4, help="training epochs of every method")
    parser.add_argument("--pretrain-epochs", type=int, default=1, help="of the critic's epochs, plain CE")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--mlp-width", type=int, default=1200, help="hidden units of the 3-layer MLP")
    parser.add_argument("--critic-width", type=int, default=1200, help="hidden units of the 2-layer critic")
    parser.add_argument("--deepfool-steps", type=int, default=100)
    parser.add_argument("--hc-steps", type=int, default=200, help="steps of the high-confidence attack")
    parser.add_argument("--cw-binary-steps", type=int, default=5)
    parser.add_argument("--cw-steps", type=int, default=100)
    parser.add_argument("--cw-lr", type=float, default=0.05)
    parser.add_argument("--cw-c", type=float, default=0.1, help="initial constant of C&W")
    parser.add_argument("--apgd-steps", type=int, default=50)
    parser.add_argument("--l2-eps", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results-dir", default="adversary-critic-results")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(run(parse_args()))
