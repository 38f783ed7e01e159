"""Reproduces the constant-perturbation comparison (Chernyak et al., Tables 1-7, Figure 1) at a CPU scale.

Trains, for every seed, any of these settings (``--settings``):

- ``standard``: plain training; ``variable``: fresh U(-eps_pert, eps_pert) noise every batch, perturbed
  images only (the paper's setting B);
- ``K=<k>``: :class:`~lit_robust.data.ConstantPerturbations` with ``k`` copies plus the clean images (so
  K=10 trains on 11 x the data per epoch, as in the paper, where every setting gets the same number of
  epochs); ``K=<k>@<eps>`` overrides the perturbation bound (Figure 1); ``K=<k>/normal`` draws N(0, eps^2).

The seed sets the initialisation, the shuffling and the perturbations. Every model is evaluated white-box
with :func:`lit_robust.evaluation.evaluate_robustness` on the first ``--test-size`` test images: FGSM and
PGD-20/40/100 with the paper's step, then APGD-CE and PGD with restarts, and the per-point worst case over
all of them (the honest number). With ``--save-dir`` the trained weights are kept, and ``--black-box``
then attacks each seed's model with FGSM and PGD-40 examples crafted on every other seed's model of the
same setting (the paper's black-box column, which uses 5 models). Results go to ``--jsonl`` one line per
model (a rerun skips the models already there); ``--summarize`` prints the tables, mean ± std over seeds.

    python tools/reproduce_constant_perturbations.py --dataset mnist-sample --seeds 0 1 2 --epochs 3 \
        --jsonl cp.jsonl --save-dir cp_models
    python tools/reproduce_constant_perturbations.py --dataset mnist-sample --seeds 0 1 2 --black-box \
        --jsonl cp.jsonl --save-dir cp_models
    python tools/reproduce_constant_perturbations.py --summarize cp.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from reproduction import mean_std, quiet_trainer

from lit_robust.attacks import APGD, FGSM, PGD
from lit_robust.data import MNIST, ConstantPerturbations, FashionMNIST, InMemoryImageDataModule
from lit_robust.defenses import RobustClassifier, VariablePerturbations
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import LeNet5

FASHION_MNIST_TRAIN = 60000
SETTING = re.compile(r"^(standard|variable|K=(\d+)(?:@([0-9.]+))?(/normal)?)$")
INFO = ("setting", "seed", "kind", "train_s", "eval_s")


def base_data(args: argparse.Namespace) -> InMemoryImageDataModule:
    """The MNIST sample (4,000 training images), or Fashion-MNIST whose training split is ``--train-size``
    images (the rest is an unused hold-out)."""
    if args.dataset == "mnist-sample":
        return MNIST(data_dir=args.data_dir, batch_size=args.batch_size, val_size=0, sample=True)
    return FashionMNIST(
        data_dir=args.data_dir, batch_size=args.batch_size, val_size=FASHION_MNIST_TRAIN - args.train_size
    )


def parse_setting(setting: str, default_eps: float) -> tuple[int, float, str]:
    """``(copies, eps, distribution)`` of a ``K=...`` setting (copies 0 for standard/variable)."""
    match = SETTING.match(setting)
    if match is None:
        raise ValueError(
            f"unknown setting {setting!r}: use standard, variable, K=<k>, K=<k>@<eps>, K=<k>/normal"
        )
    copies = int(match.group(2)) if match.group(2) else 0
    eps = float(match.group(3)) if match.group(3) else default_eps
    return copies, eps, "normal" if match.group(4) else "uniform"


def model_for(setting: str, args: argparse.Namespace) -> RobustClassifier:
    base = base_data(args)
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
    copies, eps, distribution = parse_setting(setting, args.pert_eps)
    if copies:
        return ConstantPerturbations(
            base_data(args), copies=copies, eps=eps, distribution=distribution, seed=seed, progress=False
        )
    return base_data(args)


def attacks(args: argparse.Namespace, eps: float) -> dict[str, Callable]:
    step = args.step
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


def weights_path(args: argparse.Namespace, setting: str, seed: int) -> Path | None:
    if not args.save_dir:
        return None
    name = setting.replace("=", "").replace("@", "_eps").replace("/", "_")
    return Path(args.save_dir) / f"{name}_seed{seed}.pt"


def train(setting: str, seed: int, args: argparse.Namespace) -> tuple[RobustClassifier, float]:
    """Trains one model; returns it (in eval mode) and the training wall time in seconds."""
    L.seed_everything(seed, verbose=False)
    model, data = model_for(setting, args), data_for(setting, seed, args)
    trainer = quiet_trainer(args.epochs, limit_val_batches=0)
    start = time.perf_counter()
    trainer.fit(model, datamodule=data)
    seconds = time.perf_counter() - start
    path = weights_path(args, setting, seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
    return model.eval(), seconds


def white_box(
    setting: str, seed: int, args: argparse.Namespace, test: tuple[torch.Tensor, torch.Tensor]
) -> dict:
    """Trains and evaluates one model; returns its accuracies (fractions) with the setting and seed."""
    model, train_seconds = train(setting, seed, args)
    row = {
        "setting": setting,
        "seed": seed,
        "kind": "white-box",
        "train_s": round(train_seconds),
        "eval_s": 0,
    }
    for eps in args.attack_eps:
        chosen = attacks(args, eps)
        report = evaluate_robustness(model, *test, attacks=chosen, epsilons=[eps], seed=seed)
        row["eval_s"] += round(report.seconds)
        row["clean"] = report.clean_accuracy
        row |= {column(name, eps, args): report.accuracy(name, eps) for name in [*chosen, "worst"]}
    return row


def column(attack: str, eps: float, args: argparse.Namespace) -> str:
    """The table column of ``attack`` at ``eps`` (the epsilon is named only when there are several)."""
    return f"{attack} @{eps:g}" if len(args.attack_eps) > 1 else attack


def load(setting: str, seed: int, args: argparse.Namespace) -> RobustClassifier:
    path = weights_path(args, setting, seed)
    if path is None or not path.exists():
        raise FileNotFoundError(f"no saved weights for {setting} seed {seed}: train with --save-dir first")
    model = model_for(setting, args)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()


def black_box(setting: str, target: int, source: int, args: argparse.Namespace, test) -> dict:
    """FGSM and PGD-40 examples crafted on the ``source`` seed's model, judged by the ``target`` seed's."""
    model, source_model = load(setting, target, args), load(setting, source, args)
    row = {
        "setting": setting,
        "seed": target,
        "kind": f"black-box from seed {source}",
        "train_s": 0,
        "eval_s": 0,
    }
    for eps in args.attack_eps:
        chosen = {name: attack for name, attack in attacks(args, eps).items() if name in ("FGSM", "PGD-40")}
        report = evaluate_robustness(
            model, *test, attacks=chosen, epsilons=[eps], source=source_model, seed=target
        )
        row["eval_s"] += round(report.seconds)
        row["clean"] = report.clean_accuracy
        row |= {
            column(name, eps, args): report.accuracy(name, eps, transfer=True) for name in [*chosen, "worst"]
        }
    return row


def table(rows: list[dict]) -> str:
    """Markdown table of the accuracies in %, mean ± sample standard deviation over rows, by setting."""
    results: dict[str, list[dict]] = {}
    for row in rows:
        results.setdefault(row["setting"], []).append(row)
    columns = [c for c in rows[0] if c not in INFO]
    lines = ["| setting | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for setting, group in results.items():
        cells = []
        for column in columns:
            cells.append(mean_std([row[column] for row in group]))
        lines.append(f"| {setting} (n={len(group)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summarize(rows: list[dict]) -> str:
    white = [row for row in rows if row["kind"] == "white-box"]
    black = [row for row in rows if row["kind"] != "white-box"]
    parts = ["White-box:\n", table(white)]
    if black:
        parts += [
            "\n\nBlack-box (examples from each other seed's model of the same setting):\n",
            table(black),
        ]
    seconds = {}
    for row in white:
        seconds.setdefault(row["setting"], []).append(row["train_s"])
    parts.append("\n\nTraining wall seconds per model: ")
    parts.append("; ".join(f"{s} {min(v)}-{max(v)}" for s, v in seconds.items()))
    return "".join(parts)


def read_rows(paths: list[str]) -> list[dict]:
    return [
        json.loads(line)
        for path in paths
        if Path(path).exists()
        for line in Path(path).read_text().splitlines()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--dataset", choices=["fashion-mnist", "mnist-sample"], default="fashion-mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", default=["standard", "variable", "K=1", "K=5", "K=10"])
    parser.add_argument("--train-size", type=int, default=5000, help="Fashion-MNIST training images used")
    parser.add_argument("--test-size", type=int, default=500, help="test images attacked")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--pert-eps", type=float, default=0.3, help="bound of the training perturbations")
    parser.add_argument("--attack-eps", type=float, nargs="+", default=[0.3], help="L-inf budgets attacked")
    parser.add_argument("--step", type=float, default=0.01, help="PGD step size (the paper's MNIST step)")
    parser.add_argument("--apgd-steps", type=int, default=100)
    parser.add_argument("--restart-steps", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy CPU)")
    parser.add_argument("--save-dir", help="keep each model's weights here (needed by --black-box)")
    parser.add_argument("--black-box", action="store_true", help="cross-seed transfer of the saved models")
    parser.add_argument("--jsonl", help="append every model's results here; models already there are skipped")
    parser.add_argument("--summarize", nargs="+", help="only print the tables of these --jsonl files")
    args = parser.parse_args()
    if args.summarize:
        print(summarize(read_rows(args.summarize)))
        return
    for setting in args.settings:
        parse_setting(setting, args.pert_eps)
    torch.set_num_threads(args.threads)

    test_data = base_data(args)
    test_data.setup("test")
    images, labels = test_data.test_data
    test = (images[: args.test_size].float() / 255, labels[: args.test_size])
    done = {
        (row["setting"], row["seed"], row["kind"]) for row in read_rows([args.jsonl] if args.jsonl else [])
    }
    jobs: list[tuple[str, int, int | None]] = []
    for setting in args.settings:
        if args.black_box:
            jobs += [(setting, t, s) for t, s in itertools.permutations(args.seeds, 2)]
        else:
            jobs += [(setting, seed, None) for seed in args.seeds]
    rows = []
    for setting, seed, source in jobs:
        kind = "white-box" if source is None else f"black-box from seed {source}"
        if (setting, seed, kind) in done:
            continue
        if source is None:
            rows.append(white_box(setting, seed, args, test))
        else:
            rows.append(black_box(setting, seed, source, args, test))
        print(json.dumps(rows[-1]), flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as file:
                file.write(json.dumps(rows[-1]) + "\n")
    print(
        f"\n{args.dataset}, {args.epochs} epochs, seeds {args.seeds}; eps={args.attack_eps}, "
        f"first {args.test_size} test images; accuracy in %\n"
    )
    print(summarize(read_rows([args.jsonl]) if args.jsonl else rows))


if __name__ == "__main__":
    main()
