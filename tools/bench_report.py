"""Benchmark: a full robustness report (FGSM, PGD-40, APGD at 8 epsilons): lit_robust, torchattacks and ART.

    python tools/bench_report.py [--num-images 250] [--apgd-steps 40] [--repeats 1] [--threads 1]
        [--device cpu] [--model-cache model.pt] [--json report.json]

The model is ``tools/bench_attacks.py``'s (PRBasicCNN behind the normalisation layer, trained on
Fashion-MNIST for ``--train-steps`` Adam steps); the images are the first ``--num-images`` test images.
Every side computes, at each of the 8 L-inf epsilons, the robust accuracy of each attack and the worst case
(a point counts only if it is classified correctly and all three attacks fail on it):

- ``torchattacks``: a loop over epsilons and attacks, every attack on every image (FGSM, PGD, APGD);
- ``ART``: the same loop with ART's FastGradientMethod, ProjectedGradientDescent and
  AutoProjectedGradientDescent through a ``PyTorchClassifier``;
- ``lit_robust``: ``evaluate_robustness`` with the three attacks (every column, its speed rules);
- ``lit_robust worst case``: the same with ``worst_case_only=True`` (the worst-case column alone: the attacks
  run as a cascade, each on the points still standing);
- ``callback``: ``Trainer.validate`` over the same images with the ``RobustnessEvaluation`` callback and the
  same attacks (no figure, no images), to compare the callback's whole cost with the attacks' own.

Settings shared by all: PGD takes 40 steps of ``2.5 * eps / 40`` from a uniform random start; APGD-CE takes
``--apgd-steps`` steps from a random start with initial step ``2 * eps``, one restart, rho 0.75. Target:
lit_robust at most 0.35x torchattacks' time, at an equal or lower worst-case robust accuracy. On the CPU the
seconds are the process's CPU time (one thread: its own work, whatever else runs on the machine).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import art
import lightning as L
import numpy as np
import torch
import torchattacks
from art.attacks.evasion import AutoProjectedGradientDescent, FastGradientMethod, ProjectedGradientDescent
from art.estimators.classification import PyTorchClassifier
from bench_attacks import CURVE_EPSILONS, STEPS, accuracy, batches, best_of, clock_for, load, train
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.attacks import APGD, FGSM, PGD
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.defenses import RobustClassifier
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import PRBasicCNN

ATTACKS = ("fgsm", "pgd", "apgd")
Curves = dict[str, list[float]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data", help="FashionMNIST also looks in its system directory")
    parser.add_argument("--num-images", type=int, default=250, help="test images attacked")
    parser.add_argument("--apgd-steps", type=int, default=40, help="APGD iterations")
    parser.add_argument("--train-steps", type=int, default=800, help="Adam steps of batch 128")
    parser.add_argument("--label-smoothing", type=float, default=0.1, help="the paper's 0.1 by default")
    parser.add_argument("--batch-size", type=int, default=250, help="attack batch size, the same for all")
    parser.add_argument("--repeats", type=int, default=1, help="timed repetitions; the best is reported")
    parser.add_argument("--sides", default="lit_robust,worst_case,torchattacks,art", help="sides to run")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-cache", default=None, help="reuse (or save) the trained weights here")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    return parser.parse_args()


def trained_model(args: argparse.Namespace, device: torch.device) -> tuple[RobustClassifier, Tensor, Tensor]:
    data, (train_x, train_y), (x, y) = load(args.data_dir, args.num_images, device)
    cache = Path(args.model_cache) if args.model_cache else None
    if cache is not None and cache.exists():
        model = RobustClassifier(PRBasicCNN(), num_classes=10, mean=list(data.mean), std=list(data.std))
        model.load_state_dict(torch.load(cache, map_location=device, weights_only=True))
        return model.to(device).eval().requires_grad_(False), x, y
    model = train(data, train_x, train_y, args)
    if cache is not None:
        torch.save(model.state_dict(), cache)
    return model, x, y


def ours(model: nn.Module, x: Tensor, y: Tensor, args: argparse.Namespace, worst_case_only: bool) -> Curves:
    eps = CURVE_EPSILONS[0]
    attacks = {"fgsm": FGSM(eps), "pgd": PGD(eps, steps=STEPS), "apgd": APGD(eps, steps=args.apgd_steps)}
    report = evaluate_robustness(
        model, x, y, attacks, CURVE_EPSILONS, batch_size=args.batch_size, worst_case_only=worst_case_only
    )
    names = ("worst",) if worst_case_only else (*ATTACKS, "worst")
    return {name: [report.accuracy(name, e) for e in CURVE_EPSILONS] for name in names}


def callback_side(model: nn.Module, x: Tensor, y: Tensor, args: argparse.Namespace) -> Curves:
    eps = CURVE_EPSILONS[0]
    attacks = {"fgsm": FGSM(eps), "pgd": PGD(eps, steps=STEPS), "apgd": APGD(eps, steps=args.apgd_steps)}
    callback = RobustnessEvaluation(
        attacks, CURVE_EPSILONS, num_samples=len(y), batch_size=args.batch_size, log_images=False,
        log_figure=False,
    )  # fmt: skip
    trainer = L.Trainer(
        accelerator="gpu" if x.is_cuda else "cpu", devices=1, logger=False, enable_progress_bar=False,
        enable_model_summary=False, callbacks=[callback],
    )  # fmt: skip
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size)
    metrics = trainer.validate(model, dataloaders=loader, verbose=False)[0]
    return {
        name: [metrics[f"val/robust_acc/{name}/eps={e:g}"] for e in CURVE_EPSILONS]
        for name in (*ATTACKS, "worst")
    }


def correct(model: nn.Module, x: Tensor, y: Tensor, size: int) -> Tensor:
    with torch.no_grad():
        return torch.cat([model(xb).argmax(1) == yb for xb, yb in batches(x, y, size)])


def loop(attacks_at: dict, model: nn.Module, x: Tensor, y: Tensor, size: int) -> Curves:
    """Every attack on every image at every epsilon; ``attacks_at[name](eps)`` maps (x, y) to x_adv."""
    clean = correct(model, x, y, size)
    curves: Curves = {name: [] for name in (*ATTACKS, "worst")}
    for eps in CURVE_EPSILONS:
        worst = clean.clone()
        for name in ATTACKS:
            robust = clean & correct(model, attacks_at[name](eps)(x, y), y, size)
            curves[name].append(robust.float().mean().item())
            worst &= robust
        curves["worst"].append(worst.float().mean().item())
    return curves


def torchattacks_side(model: nn.Module, x: Tensor, y: Tensor, args: argparse.Namespace) -> Curves:
    def batched(attack: torchattacks.Attack):
        return lambda xs, ys: torch.cat([attack(xb, yb) for xb, yb in batches(xs, ys, args.batch_size)])

    attacks_at = {
        "fgsm": lambda e: batched(torchattacks.FGSM(model, eps=e)),
        "pgd": lambda e: batched(torchattacks.PGD(model, eps=e, alpha=2.5 * e / STEPS, steps=STEPS)),
        "apgd": lambda e: batched(torchattacks.APGD(model, eps=e, steps=args.apgd_steps, seed=args.seed)),
    }
    return loop(attacks_at, model, x, y, args.batch_size)


def art_side(model: nn.Module, x: Tensor, y: Tensor, args: argparse.Namespace) -> Curves:
    classifier = PyTorchClassifier(
        model,
        loss=nn.CrossEntropyLoss(),
        input_shape=tuple(x.shape[1:]),
        nb_classes=10,
        clip_values=(0.0, 1.0),
        device_type="gpu" if x.is_cuda else "cpu",
    )
    size = args.batch_size

    def numpy_attack(attack):
        def run(xs: Tensor, ys: Tensor) -> Tensor:
            x_adv = attack.generate(xs.cpu().numpy(), y=ys.cpu().numpy())
            return torch.from_numpy(np.asarray(x_adv, dtype=np.float32)).to(xs.device)

        return run

    attacks_at = {
        "fgsm": lambda e: numpy_attack(FastGradientMethod(classifier, eps=e, batch_size=size)),
        "pgd": lambda e: numpy_attack(
            ProjectedGradientDescent(
                classifier,
                eps=e,
                eps_step=2.5 * e / STEPS,
                max_iter=STEPS,
                num_random_init=1,
                batch_size=size,
                verbose=False,
            )
        ),
        "apgd": lambda e: numpy_attack(
            AutoProjectedGradientDescent(
                classifier,
                eps=e,
                eps_step=2 * e,
                max_iter=args.apgd_steps,
                nb_random_init=1,
                batch_size=size,
                loss_type="cross_entropy",
                verbose=False,
            )
        ),
    }
    return loop(attacks_at, model, x, y, size)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model, x, y = trained_model(args, device)
    sides = {
        "lit_robust": lambda: ours(model, x, y, args, worst_case_only=False),
        "worst_case": lambda: ours(model, x, y, args, worst_case_only=True),
        "torchattacks": lambda: torchattacks_side(model, x, y, args),
        "art": lambda: art_side(model, x, y, args),
        "callback": lambda: callback_side(model, x, y, args),
    }
    chosen = args.sides.split(",")
    timed = best_of(args.repeats, {name: sides[name] for name in chosen}, device, clock_for(device))
    results = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, {device}",
        "clock": "process CPU time" if device.type == "cpu" else "wall time",
        "versions": {
            "torch": torch.__version__,
            "torchattacks": torchattacks.__version__,
            "art": art.__version__,
        },
        "num_images": len(y),
        "apgd_steps": args.apgd_steps,
        "epsilons": CURVE_EPSILONS,
        "clean_accuracy": accuracy(model, x, y, args.batch_size),
        "seconds": {name: t for name, (_, t, _) in timed.items()},
        "curves": {name: curves for name, (_, _, curves) in timed.items()},
    }
    print_tables(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def print_tables(r: dict) -> None:
    best = {name: min(t) for name, t in r["seconds"].items()}
    labels = {
        "lit_robust": "lit_robust (every column)",
        "worst_case": "lit_robust worst_case_only",
        "callback": "RobustnessEvaluation (validate)",
    }
    lines = [
        f"{r['machine']}; {', '.join(f'{k} {v}' for k, v in r['versions'].items())}",
        f"{r['num_images']} images, clean accuracy {r['clean_accuracy']:.2%}, APGD {r['apgd_steps']} steps, "
        f"seconds of {r['clock']}",
        "",
        f"{'side':28s} {'seconds':>8s}"
        + "".join(f"  / {b:12s}" for b in ("torchattacks", "art") if b in best),
    ]
    for name, seconds in best.items():
        ratios = "".join(f"  {seconds / best[b]:14.3f}" for b in ("torchattacks", "art") if b in best)
        lines.append(f"{labels.get(name, name):28s} {seconds:8.1f}{ratios}")
    lines += [
        "",
        "worst-case robust accuracy by eps (x255): " + "  ".join(f"{e * 255:5.0f}" for e in r["epsilons"]),
    ]
    for name, curves in r["curves"].items():
        lines.append(f"  {labels.get(name, name):38s}  " + "  ".join(f"{v:5.1%}" for v in curves["worst"]))
    for attack in ATTACKS:
        lines.append(f"{attack} robust accuracy:")
        for name, curves in r["curves"].items():
            if attack in curves:
                lines.append(
                    f"  {labels.get(name, name):38s}  " + "  ".join(f"{v:5.1%}" for v in curves[attack])
                )
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
