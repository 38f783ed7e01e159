"""Reproduces random layer sampling (Lee et al., BMVC 2020) at a small scale, with two evaluation protocols.

Trains, per seed, on a fixed Fashion-MNIST subset: two independently trained basic CNNs (the first is the
single-model baseline, both together the independent ensemble with as many parameters as M=2 sub-models)
and a ``RandomLayerSampling`` ensemble (M=2, K=3, N=10, MSE of the mean prediction). Then measures, on the
first test images:

- ``paper``: the paper's protocol. Examples are crafted on one sampled model with its path fixed and
  classified by the defense (mean of N fresh sampled models); for the independent ensemble, crafted on its
  first member and classified by the ensemble (the paper's "base ensemble", Table 6).
- ``adaptive``: white-box attacks on the defended prediction itself. Bounded attacks (FGSM, PGD, APGD) run
  under ``EOT`` (``--eot`` calls of the defense per gradient, each the mean of N fresh draws); the
  minimum-norm attacks (DeepFool, C&W, EAD) see one call per gradient (N fresh draws each).
- the single model under white-box attacks (with ``--control``, also one model trained with the MSE loss,
  which separates the effect of the loss from that of the sampling), the interrater agreement (kappa) of
  N sampled models and of the ensemble's members, a sweep over N under the paper's protocol, and training
  and inference time relative to one model.

Prints markdown tables (mean ± std over seeds). Example (about ten minutes per seed on one busy core)::

    python tools/reproduce_layer_sampling.py --seeds 0 1 --train-size 4000 --test-size 100 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from reproduction import load_fashion_mnist_subset, mean_std, timed_fit
from torch import Tensor, nn

from lit_robust.attacks import APGD, EAD, EOT, FGSM, PGD, Attack, CarliniWagnerL2, DeepFool
from lit_robust.defenses import RandomLayerSampling, RobustClassifier
from lit_robust.evaluation import RobustnessReport, evaluate_robustness
from lit_robust.metrics import InterraterAgreement
from lit_robust.models import PRBasicCNN

ATTACKS = ("FGSM", "PGD", "APGD", "DeepFool", "C&W", "EAD")
STRONG = ("PGD-strong", "APGD-strong")


class MeanEnsemble(nn.Module):
    """Independently trained classifiers averaged like the defense: log of the mean softmax."""

    def __init__(self, members: list[RobustClassifier]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([m(x).softmax(dim=-1) for m in self.members]).mean(dim=0).log()


def attacks(args: argparse.Namespace) -> dict[str, Attack]:
    """The paper's five attacks (plus APGD), at the paper's MNIST budgets (halved: its eps is on a [-1, 1]
    pixel scale) with fewer iterations."""
    optimiser = dict(c=args.c, binary_search_steps=1, steps=args.opt_steps, lr=0.01)
    return {
        "FGSM": FGSM(args.eps),
        "PGD": PGD(args.eps, steps=args.pgd_steps, step_size=args.eps / 10),
        "APGD": APGD(args.eps, steps=args.apgd_steps),
        "DeepFool": DeepFool(steps=args.deepfool_steps, num_candidates=args.deepfool_candidates),
        "C&W": CarliniWagnerL2(**optimiser),
        "EAD": EAD(**optimiser),
    }


def adaptive(args: argparse.Namespace) -> dict[str, Attack]:
    """The attacks under EOT (``--eot`` calls per gradient), plus PGD with restarts and APGD with
    ``--strong-steps`` steps and ``--strong-eot`` calls per gradient: the strongest attacks we have."""
    chosen = {
        name: EOT(attack, args.eot if not attack.minimum_norm else 1)
        for name, attack in attacks(args).items()
    }
    steps = args.strong_steps
    chosen["PGD-strong"] = EOT(
        PGD(args.eps, steps=steps, step_size=2.5 * args.eps / steps, restarts=2), args.strong_eot
    )
    chosen["APGD-strong"] = EOT(APGD(args.eps, steps=steps), args.strong_eot)
    return chosen


def accuracies(report: RobustnessReport, transfer: bool = False) -> dict[str, float]:
    """Clean accuracy and each attack's accuracy at its own budget (minimum-norm: points it failed on)."""
    kind = "transfer_acc" if transfer else "robust_acc"
    out = {"clean": report.clean_accuracy}
    for column, value in report.summary.items():
        if column.kind == kind and column.attack in (*ATTACKS, *STRONG, "worst"):
            out[column.attack] = value
    return out


def inference_seconds(model: Callable[[Tensor], Tensor], x: Tensor, repeats: int = 5) -> float:
    with torch.no_grad():
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return (time.perf_counter() - start) / repeats


def agreement(predictions: list[Tensor], y: Tensor) -> float:
    metric = InterraterAgreement(len(predictions))
    metric.update(torch.stack(predictions), y)
    return metric.compute().item()


def run_seed(args: argparse.Namespace, data: tuple, seed: int, log: Callable[[str], None]) -> dict[str, dict]:
    train_set, x, y, mean, std = data
    optimizer = lambda params: torch.optim.Adam(params, lr=args.lr)  # noqa: E731
    common = dict(num_classes=10, mean=list(mean), std=list(std), optimizer=optimizer)
    members, seconds = [], []
    for index in range(2):
        L.seed_everything(seed * 100 + index, verbose=False)
        members.append(RobustClassifier(PRBasicCNN(), **common).eval())
        seconds.append(timed_fit(members[-1], train_set, args.batch_size, args.epochs, seed * 100 + index)[0])
    L.seed_everything(seed, verbose=False)
    rls = RandomLayerSampling(
        PRBasicCNN(), num_models=2, train_samples=3, test_samples=10, loss="mse", **common
    )
    rls_seconds = timed_fit(rls, train_set, args.batch_size, args.epochs, seed)[0]
    if args.control:
        L.seed_everything(seed, verbose=False)
        control = RandomLayerSampling(PRBasicCNN(), num_models=1, train_samples=1, test_samples=1, **common)
        timed_fit(control, train_set, args.batch_size, args.epochs, seed)
    rls.eval()
    single, ensemble = members[0], MeanEnsemble(members).eval()
    path = rls.ensemble.sample_paths(1, torch.Generator().manual_seed(seed))[0]
    target = rls.sampled_model(path)
    rows: dict[str, dict] = {}
    evaluate = lambda model, chosen, **kw: evaluate_robustness(model, x, y, attacks=chosen, seed=seed, **kw)  # noqa: E731
    rows["single model, white-box"] = accuracies(evaluate(single, attacks(args)))
    rows["independent ensemble (2), paper: attack member 1"] = accuracies(
        evaluate(ensemble, attacks(args), source=single), transfer=True
    )
    rows["independent ensemble (2), white-box on the mean"] = accuracies(evaluate(ensemble, attacks(args)))
    if args.control:
        rows["control: one model trained with the MSE loss (M=1), white-box"] = accuracies(
            evaluate(control.eval(), attacks(args))
        )
    torch.manual_seed(seed)
    rows["RLS, paper: attack one sampled path, N=10 classify"] = accuracies(
        evaluate(rls, attacks(args), source=target), transfer=True
    )
    torch.manual_seed(seed)
    rows["RLS, adaptive: EOT on the N=10 prediction"] = accuracies(evaluate(rls, adaptive(args)))
    sweep = {}
    swept = {name: a for name, a in attacks(args).items() if name in ("FGSM", "PGD")}
    for n in args.sweep:
        rls.test_samples = n
        torch.manual_seed(seed)
        sweep[f"N={n}"] = accuracies(evaluate(rls, swept, source=target), transfer=True)
    rls.test_samples = 10
    with torch.no_grad():
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed + 1)  # the paper: 10 repeats of 10 distinct paths
        draws = [rls.ensemble.sample_paths(10, generator, distinct=True) for _ in range(10)]
        kappa_rls = sum(agreement([rls.sampled_model(p)(x).argmax(-1) for p in d], y) for d in draws) / 10
        kappa_ens = agreement([m(x).argmax(-1) for m in members], y)
    cost = {
        "train time": rls_seconds / seconds[0],
        "inference time": inference_seconds(rls, x) / inference_seconds(single, x),
        "parameters": sum(p.numel() for p in rls.parameters()) / sum(p.numel() for p in single.parameters()),
    }
    log(f"seed {seed}: {rows} sweep {sweep} kappa rls {kappa_rls:.3f} ensemble {kappa_ens:.3f} cost {cost}")
    return {"rows": rows, "sweep": sweep, "kappa": {"RLS (10 sampled models)": kappa_rls,
            "independent ensemble (2 members)": kappa_ens}, "cost": cost}  # fmt: skip


def table(results: list[dict[str, dict]], key: str, columns: list[str]) -> str:
    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name in results[0][key]:
        cells = [
            mean_std([r[key][name][c] for r in results]) if c in results[0][key][name] else "-"
            for c in columns
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(results: list[dict[str, dict]]) -> str:
    parts = [
        "Accuracy (%) under attack:",
        table(results, "rows", ["clean", *ATTACKS, *STRONG, "worst"]),
        "\nPaper's protocol against the number N of sampled models averaged (accuracy %):",
        table(results, "sweep", ["clean", "FGSM", "PGD"]),
        "\nInterrater agreement kappa (lower is more diverse):",
        "| | kappa |\n|---|---|",
        *(f"| {n} | {mean_std([r['kappa'][n] for r in results], 1.0, 3)} |" for n in results[0]["kappa"]),
        "\nCost of RLS relative to one model:",
        "| | ratio |\n|---|---|",
        *(f"| {n} | {mean_std([r['cost'][n] for r in results], 1.0, 2)} |" for n in results[0]["cost"]),
    ]
    return "\n".join(parts)


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> str:
    """Runs the seeds (with ``--results-dir``, skips those already saved there) and summarises them."""
    torch.set_num_threads(args.threads)
    data = load_fashion_mnist_subset(args.data_dir, args.train_size, args.test_size)
    results = []
    for seed in args.seeds:
        path = Path(args.results_dir) / f"seed{seed}.json" if args.results_dir else None
        if path is not None and path.exists():
            results.append(json.loads(path.read_text()))
            continue
        results.append(run_seed(args, data, seed, log))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(results[-1]))
    return summary(results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam (the paper: SGD 0.01, 150 epochs)")
    parser.add_argument(
        "--eps",
        type=float,
        default=0.05,
        help="L-inf radius of FGSM, PGD, APGD ([0, 1] pixels; paper: 0.1 on [-1, 1])",
    )
    parser.add_argument("--c", type=float, default=1.0, help="constant c of C&W and EAD (one c, no search)")
    parser.add_argument("--opt-steps", type=int, default=50, help="C&W and EAD iterations (paper: 1000)")
    parser.add_argument("--pgd-steps", type=int, default=10, help="PGD iterations of step eps/10 (paper: 10)")
    parser.add_argument("--apgd-steps", type=int, default=20)
    parser.add_argument("--deepfool-steps", type=int, default=20)
    parser.add_argument("--deepfool-candidates", type=int, default=3)
    parser.add_argument("--eot", type=int, default=2, help="EOT calls per gradient of the bounded attacks")
    parser.add_argument("--strong-steps", type=int, default=40, help="steps of the strong adaptive attacks")
    parser.add_argument(
        "--strong-eot", type=int, default=8, help="EOT calls per gradient of the strong attacks"
    )
    parser.add_argument(
        "--results-dir", help="save each seed's results here as JSON; saved seeds are skipped"
    )
    parser.add_argument("--sweep", type=int, nargs="+", default=[1, 5, 10, 15], help="N values swept")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--control", action="store_true", help="also a single model trained with RLS's MSE loss (M=1)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(run(parse_args()))
