"""Reproduces Pixel Redrawn (Tables 1-8) on the full Fashion-MNIST training set at a scale a CPU affords.

For every seed it trains the paper's basic CNN (Adam 1e-3, batch 128, label smoothing 0.1) in these settings:
``non-PR`` (clean images), ``PR k=3`` (one PR model, the code's overlapping ranges), ``PR k=3 multiple``
(20 partially converged PR models chosen per pixel), ``noise`` (U(-1, 1) noise clipped, at training: Table
5) and ``PR k=2/4/10`` (equal-width ranges). PR training images are precomputed by
:class:`lit_robust.data.PixelRedrawn`: ``--epochs`` redraws of every image, one pass over them, so every
epoch's worth of images is a fresh redraw (as the original code redraws every epoch) and every setting takes
the same number of SGD steps. The seed sets the PR models, the redraws, the initialisation and the shuffling.

Evaluation: clean accuracy on the 10,000 test images with and without PR (and noise) at test time (Tables
1, 5); the threat-model cases (:func:`lit_robust.evaluation.evaluate_cases`) on the first ``--test-size``
test images at eps 8/256 with the paper's attacks (FGSM, BIM-10, MIM-10, L2 C&W with 1 binary-search step,
lr 0.1, c 10 and ``--cw-steps`` steps) and the paper's approximation of an attacker who knows PR; beside
them the honest numbers: APGD-CE in case B and adaptive attacks through PR (BPDA + EOT over
``--eot-samples`` redraws) in cases C and D. One JSON file per (setting, seed) under ``--out``: a rerun
skips finished runs. ``--summarize`` prints the markdown tables (mean ± std over seeds).

    python tools/reproduce_pixel_redrawn.py --seeds 0 1 2 --epochs 1 --out /tmp/pr-results
    python tools/reproduce_pixel_redrawn.py --summarize /tmp/pr-results
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import lightning as L
import torch
from pixel_redrawn_tables import tables
from reproduction import quiet_trainer
from torch import Tensor, nn

from lit_robust.attacks import APGD, BIM, FGSM, MIM, CarliniWagnerL2
from lit_robust.data import FashionMNIST, PixelRedrawn
from lit_robust.data.noise import add_noise
from lit_robust.defenses import RobustClassifier, VariablePerturbations
from lit_robust.evaluation import case_accuracy, evaluate_cases
from lit_robust.models import PixelRedrawer, PRBasicCNN

SETTINGS = {
    "non-PR": {},
    "PR k=3": {"k": 3},
    "PR k=3 multiple": {"k": 3, "models": 20},
    "noise": {},
    "PR k=2": {"k": 2},
    "PR k=4": {"k": 4},
    "PR k=10": {"k": 10},
}
"""Setting -> PixelRedrawer arguments (empty: no PR in training)."""


def paper_attacks(args: argparse.Namespace) -> dict:
    eps = args.eps
    return {
        "FGSM": FGSM(eps),
        "BIM": BIM(eps, steps=10, step_size=eps / 4),
        "MIM": MIM(eps, steps=10, step_size=eps / 4),
        "L2-CW": CarliniWagnerL2(c=10.0, binary_search_steps=1, steps=args.cw_steps, lr=0.1),
    }


def apgd(args: argparse.Namespace) -> dict:
    return {"APGD": APGD(args.eps, steps=args.apgd_steps)}


def train(setting: str, seed: int, args: argparse.Namespace) -> tuple[nn.Module, PixelRedrawer | None, dict]:
    """The trained classifier F, the redrawer of its PR models (``None`` without PR) and timings."""
    L.seed_everything(seed, verbose=False)
    base = FashionMNIST(data_dir=args.data_dir, batch_size=128, val_size=0)
    common = dict(num_classes=10, mean=list(base.mean), std=list(base.std), label_smoothing=0.1)
    times: dict[str, float] = {}
    redrawer, data, epochs = None, base, args.epochs
    if SETTINGS.get(setting):
        start = time.process_time()
        redrawer = PixelRedrawer(**SETTINGS[setting], seed=seed)
        times["pr_models_cpu_s"] = time.process_time() - start
        data = PixelRedrawn(base, redrawer, redraws=args.epochs, seed=seed, progress=False)
        start = time.process_time()
        data.setup("fit")
        times["redraw_train_set_cpu_s"] = time.process_time() - start
        epochs = 1  # one pass over `epochs` redraws of every image
    if setting == "noise":
        model = VariablePerturbations(PRBasicCNN(), eps=1.0, phase="train", **common)
    else:
        model = RobustClassifier(PRBasicCNN(), **common)
    trainer = quiet_trainer(epochs, limit_val_batches=0, limit_train_batches=args.limit_train_batches)
    start = time.process_time()
    trainer.fit(model, datamodule=data)
    times["train_cpu_s"] = time.process_time() - start
    return model.eval(), redrawer, times


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, transform=None) -> float:
    correct = 0
    for xb, yb in zip(x.split(1000), y.split(1000), strict=True):
        xb = transform(xb) if transform is not None else xb
        correct += (model(xb).argmax(dim=1) == yb).sum().item()
    return correct / len(y)


def cases_table(reports: dict, eps: float) -> dict:
    """Case -> attack -> accuracy (minimum-norm attacks: where they failed); ``clean`` per case."""
    out = {}
    for case, report in reports.items():
        row = {"clean": case_accuracy(report)}
        for planned in report.plan.attacks:
            at = math.inf if planned.kind == "minimum_norm" else eps
            row[planned.name] = case_accuracy(report, planned.name, at)
        if report.plan.grid and any(p.in_worst for p in report.plan.attacks):
            row["worst"] = case_accuracy(report, "worst", eps)
        out[case] = row
    return out


def evaluate(
    setting: str, model: nn.Module, redrawer: PixelRedrawer | None, seed: int, args: argparse.Namespace, test
) -> dict:
    (x_all, y_all), (x, y) = test
    torch.manual_seed(seed)
    clean = {"F(x)": accuracy(model, x_all, y_all)}
    if setting in ("non-PR", "noise"):
        clean["F(noise(x))"] = accuracy(model, x_all, y_all, lambda b: add_noise(b, 1.0, "uniform"))
    if setting == "non-PR":  # Table 1 "testing phase": the k=3 PR model of this seed at test time only
        redrawer = PixelRedrawer(k=3, seed=seed)
    if redrawer is not None:
        clean["F(PR(x))"] = accuracy(model, x_all, y_all, redrawer)
    if setting == "noise":
        return {"clean": clean}
    common = dict(epsilons=[args.eps], eot_samples=args.eot_samples, seed=seed, batch_size=args.test_size)
    paper, honest = paper_attacks(args), apgd(args)
    if setting == "non-PR":
        reports = evaluate_cases(model, redrawer, x, y, paper | honest, cases=["B"], **common)
    elif setting == "PR k=3":
        reports = evaluate_cases(
            model, redrawer, x, y, paper, cases=["normal", "A", "C (paper)", "D (paper)"], **common
        )
        reports |= evaluate_cases(model, redrawer, x, y, paper | honest, cases=["B"], **common)
        adaptive = {"FGSM": paper["FGSM"], "BIM": paper["BIM"]}
        reports |= evaluate_cases(model, redrawer, x, y, adaptive, cases=["C (adaptive)"], **common)
        reports |= evaluate_cases(model, redrawer, x, y, adaptive | honest, cases=["D (adaptive)"], **common)
    else:  # multiple PR models (Table 4) and the k sweep (Tables 6-8)
        reports = evaluate_cases(model, redrawer, x, y, paper, cases=["normal", "A", "B"], **common)
    return {
        "clean": clean,
        "cases": cases_table(reports, args.eps),
        "pr_model_accuracy": redrawer.accuracy().tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit-train-batches", type=float, default=1.0, help="for a quick smoke run")
    parser.add_argument("--test-size", type=int, default=500, help="first test images attacked")
    parser.add_argument("--eps", type=float, default=8 / 256)
    parser.add_argument("--cw-steps", type=int, default=100)
    parser.add_argument("--apgd-steps", type=int, default=20)
    parser.add_argument("--eot-samples", type=int, default=8)
    parser.add_argument("--out", default="pixel_redrawn_results", help="one JSON file per (setting, seed)")
    parser.add_argument("--summarize", help="only print the tables of the JSON files in this directory")
    args = parser.parse_args()
    if args.summarize:
        print(tables([json.loads(p.read_text()) for p in sorted(Path(args.summarize).glob("*.json"))]))
        return
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = FashionMNIST(data_dir=args.data_dir, val_size=0)
    data.setup("test")
    images, labels = data.test_data
    x_all = images.float() / 255
    test = ((x_all, labels), (x_all[: args.test_size], labels[: args.test_size]))
    for setting in args.settings:  # every seed of a setting before the next: the main tables fill first
        for seed in args.seeds:
            path = out / f"{setting.replace(' ', '_').replace('=', '')}_seed{seed}.json"
            if path.exists():
                continue
            start = time.process_time()
            model, redrawer, times = train(setting, seed, args)
            row = {"setting": setting, "seed": seed, **times}
            row |= evaluate(setting, model, redrawer, seed, args, test)
            row["total_cpu_s"] = time.process_time() - start
            row["args"] = {k: v for k, v in vars(args).items() if k not in ("summarize", "out")}
            path.write_text(json.dumps(row, indent=1))
            print(json.dumps({k: row[k] for k in ("setting", "seed", "total_cpu_s", "clean")}), flush=True)


if __name__ == "__main__":
    main()
