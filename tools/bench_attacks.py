"""Benchmark: lit_robust's PGD and ``evaluate_robustness`` against torchattacks, same model, data, settings.

    python tools/bench_attacks.py [--num-images 1000] [--train-steps 800] [--repeats 3] [--threads N]

A ``PRBasicCNN`` (the Pixel Redrawn paper's basic CNN behind ``RobustClassifier``'s normalisation) is
trained on Fashion-MNIST for ``--train-steps`` Adam steps (about a minute on one CPU thread), then, on the
first ``--num-images`` test images:

(a) PGD-40 at one epsilon: our time against ``torchattacks.PGD`` (target <= 1.0) and against 40 times one
    forward-backward pass over the same images, the practical floor (target <= 1.1);
(b) the accuracy-against-epsilon curve of PGD-40 at 8 epsilons: ``evaluate_robustness`` against a loop of
    ``torchattacks.PGD`` over the epsilons that attacks every point at every epsilon (target <= 0.35), with
    both robust accuracies side by side (ours within 0.5 points, or lower).

Both PGDs start at a uniform random point of the ball and take steps of ``2.5 * eps / 40``. The timed
phases are interleaved and repeated; the best of ``--repeats`` is reported, which is the least disturbed
by other processes on the machine. Results are printed as tables (and written as JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
import torchattacks
from torch import Tensor

from lit_robust.attacks import PGD
from lit_robust.data import FashionMNIST
from lit_robust.defenses import RobustClassifier
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import PRBasicCNN
from lit_robust.pixels import to_unit_range

STEPS = 40
CURVE_EPSILONS = [e / 255 for e in (1, 2, 4, 6, 8, 12, 16, 24)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data", help="FashionMNIST also looks in its system directory")
    parser.add_argument("--num-images", type=int, default=1000, help="test images attacked")
    parser.add_argument("--train-steps", type=int, default=800, help="Adam steps of batch 128")
    parser.add_argument("--label-smoothing", type=float, default=0.1, help="the paper's 0.1 by default")
    parser.add_argument("--batch-size", type=int, default=250, help="attack batch size, the same for all")
    parser.add_argument("--eps", type=float, default=0.1, help="L-inf radius of part (a)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the best is reported")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--show", default=None, help="print the tables of a --json file and exit")
    return parser.parse_args()


def load(data_dir: str, num_images: int, device: torch.device) -> tuple[FashionMNIST, tuple, tuple]:
    data = FashionMNIST(data_dir=data_dir)
    data.prepare()
    images, labels = data.load("train")
    test_images, test_labels = data.load("test")
    train = (images.to(device), labels.to(device))
    test = (to_unit_range(test_images[:num_images].to(device)), test_labels[:num_images].to(device))
    return data, train, test


def train(data: FashionMNIST, images: Tensor, labels: Tensor, args: argparse.Namespace) -> RobustClassifier:
    """Adam 1e-3, batch 128, label smoothing 0.1: the paper's settings, for ``args.train_steps`` steps."""
    torch.manual_seed(args.seed)
    model = RobustClassifier(PRBasicCNN(), num_classes=10, mean=list(data.mean), std=list(data.std))
    model.to(images.device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(args.train_steps):
        index = torch.randint(len(labels), (128,), device=images.device)
        logits = model(to_unit_range(images[index]))
        loss = F.cross_entropy(logits, labels[index], label_smoothing=args.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    epochs = args.train_steps * 128 / len(labels)
    print(f"trained {args.train_steps} steps ({epochs:.2f} epochs) in {seconds:.0f} s")
    return model.eval().requires_grad_(False)


def batches(x: Tensor, y: Tensor, size: int) -> list[tuple[Tensor, Tensor]]:
    return list(zip(x.split(size), y.split(size), strict=True))


def accuracy(model: RobustClassifier, x: Tensor, y: Tensor, size: int) -> float:
    with torch.no_grad():
        return sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in batches(x, y, size)) / len(y)


def forward_backward(model: RobustClassifier, x: Tensor, y: Tensor, size: int) -> None:
    """One forward and one input-gradient backward pass over every batch."""
    for xb, yb in batches(x, y, size):
        xb = xb.clone().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(xb), yb), xb)


def ours(model: RobustClassifier, x: Tensor, y: Tensor, eps: float, size: int) -> Tensor:
    attack = PGD(eps, steps=STEPS)
    return torch.cat([attack(model, xb, yb) for xb, yb in batches(x, y, size)])


def theirs(model: RobustClassifier, x: Tensor, y: Tensor, eps: float, size: int) -> Tensor:
    attack = torchattacks.PGD(model, eps=eps, alpha=2.5 * eps / STEPS, steps=STEPS, random_start=True)
    return torch.cat([attack(xb, yb) for xb, yb in batches(x, y, size)])


def curve_theirs(model: RobustClassifier, x: Tensor, y: Tensor, size: int) -> list[float]:
    return [accuracy(model, theirs(model, x, y, eps, size), y, size) for eps in CURVE_EPSILONS]


def curve_ours(model: RobustClassifier, x: Tensor, y: Tensor, size: int) -> list[float]:
    attacks = {"pgd": PGD(CURVE_EPSILONS[0], steps=STEPS)}
    report = evaluate_robustness(model, x, y, attacks, CURVE_EPSILONS, batch_size=size)
    return [report.accuracy("pgd", eps) for eps in CURVE_EPSILONS]


def attacked_share(clean: float, curve: list[float]) -> float:
    """Share of the loop's point-attacks that the speed rules still run: at each epsilon, the points still
    robust at the previous one (the clean, correct ones at the first); a lower bound of the time ratio."""
    return (clean + sum(curve[:-1])) / len(curve)


def best_of(
    repeats: int,
    phases: dict[str, Callable[[], object]],
    device: torch.device,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Runs the phases in turn ``repeats`` times; returns each one's best time and its last result.

    ``clock`` is wall time by default; ``time.process_time`` measures the process's own CPU time, which on a
    CPU shared with other jobs is the work done by a single-threaded run whatever the load."""
    times: dict[str, list[float]] = {name: [] for name in phases}
    results = {}
    for repeat in range(repeats):
        for name, phase in phases.items():
            torch.manual_seed(repeat)
            _sync(device)
            start = clock()
            results[name] = phase()
            _sync(device)
            times[name].append(clock() - start)
            print(f"  repeat {repeat + 1}: {name} {times[name][-1]:.2f} s", flush=True)
    return {name: (min(t), t, results[name]) for name, t in times.items()}


def clock_for(device: torch.device) -> Callable[[], float]:
    """The process's CPU time on the CPU (robust to other jobs on a shared machine), wall time on a GPU."""
    return time.process_time if device.type == "cpu" else time.perf_counter


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    args = parse_args()
    if args.show:
        with open(args.show) as f:
            return print_tables(json.load(f))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data, (train_x, train_y), (x, y) = load(args.data_dir, args.num_images, device)
    model = train(data, train_x, train_y, args)
    size, eps = args.batch_size, args.eps
    forward_backward(model, x, y, size)  # warm-up
    part_a = {
        "ours": lambda: ours(model, x, y, eps, size),
        "torchattacks": lambda: theirs(model, x, y, eps, size),
        "forward_backward": lambda: forward_backward(model, x, y, size),
    }
    part_b = {
        "ours": lambda: curve_ours(model, x, y, size),
        "torchattacks": lambda: curve_theirs(model, x, y, size),
    }
    a, b = best_of(args.repeats, part_a, device), best_of(args.repeats, part_b, device)
    results = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, {device}",
        "torch": torch.__version__,
        "torchattacks": torchattacks.__version__,
        "num_images": len(y),
        "batch_size": size,
        "label_smoothing": args.label_smoothing,
        "train_steps": args.train_steps,
        "clean_accuracy": accuracy(model, x, y, size),
        "a": {
            "eps": eps,
            "seconds": {k: v[1] for k, v in a.items()},
            "ours_over_torchattacks": a["ours"][0] / a["torchattacks"][0],
            "ours_over_40_forward_backward": a["ours"][0] / (STEPS * a["forward_backward"][0]),
            "robust_accuracy": {k: accuracy(model, a[k][2], y, size) for k in ("ours", "torchattacks")},
        },
        "b": {
            "epsilons": CURVE_EPSILONS,
            "seconds": {k: v[1] for k, v in b.items()},
            "ours_over_torchattacks": b["ours"][0] / b["torchattacks"][0],
            "robust_accuracy": {k: v[2] for k, v in b.items()},
            "attacked_share": attacked_share(accuracy(model, x, y, size), b["ours"][2]),
        },
    }
    print_tables(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def paired(ours: list[float], theirs: list[float]) -> str:
    """The ratio within each repeat (the two phases ran back to back, under the same load)."""
    return "  ".join(f"{o / t:.3f}" for o, t in zip(ours, theirs, strict=True))


def print_tables(r: dict) -> None:
    a, b = r["a"], r["b"]
    best_a = {k: min(v) for k, v in a["seconds"].items()}
    best_b = {k: min(v) for k, v in b["seconds"].items()}
    acc_a = a["robust_accuracy"]
    ours_curve = b["robust_accuracy"]["ours"]
    lines = [
        f"{r['machine']}; torch {r['torch']}, torchattacks {r['torchattacks']}",
        f"{r['train_steps']} training steps, label smoothing {r['label_smoothing']}",
        f"{r['num_images']} images, batch {r['batch_size']}, clean accuracy {r['clean_accuracy']:.2%}",
        "",
        f"(a) PGD-{STEPS}, eps={a['eps']:g}, best of {len(a['seconds']['ours'])}:    seconds   robust acc",
        f"  lit_robust PGD               {best_a['ours']:8.2f}   {acc_a['ours']:9.2%}",
        f"  torchattacks.PGD             {best_a['torchattacks']:8.2f}   {acc_a['torchattacks']:9.2%}",
        f"  {STEPS} x forward-backward       {STEPS * best_a['forward_backward']:8.2f}",
        f"  ours / torchattacks          {a['ours_over_torchattacks']:8.3f}   (target <= 1.0)",
        f"    per repeat                 {paired(a['seconds']['ours'], a['seconds']['torchattacks'])}",
        f"  ours / {STEPS} x forward-backward {a['ours_over_40_forward_backward']:8.3f}   (target <= 1.1)",
        "",
        f"(b) PGD-{STEPS} at {len(b['epsilons'])} epsilons, best of {len(b['seconds']['ours'])}:   seconds",
        f"  evaluate_robustness          {best_b['ours']:8.2f}",
        f"  torchattacks loop            {best_b['torchattacks']:8.2f}",
        f"  ours / torchattacks          {b['ours_over_torchattacks']:8.3f}   (target <= 0.35)",
        f"    per repeat                 {paired(b['seconds']['ours'], b['seconds']['torchattacks'])}",
        f"  point-attacks left by the speed rules {b['attacked_share']:.3f} of the loop's",
        f"  of which on points that stay robust   {sum(ours_curve) / len(ours_curve):.3f} (need every step)",
        "  eps (x255)   ours   torchattacks   difference (points)",
    ]
    accuracies = zip(
        b["epsilons"], b["robust_accuracy"]["ours"], b["robust_accuracy"]["torchattacks"], strict=True
    )
    lines += [f"  {eps * 255:8.0f}  {o:7.2%}  {t:12.2%}   {100 * (o - t):+6.1f}" for eps, o, t in accuracies]
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
