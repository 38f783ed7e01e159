"""Benchmark: bf16 mixed precision against float32, for training and for PGD, side by side in one run.

    python tools/bench_amp.py [--device cpu] [--num-images 500] [--repeats 3] [--threads 1]
        [--model-cache model.pt] [--json amp.json]

(a) Training: images per second of standard training and of PGD adversarial training (k=7) with Lightning's
    ``precision="32-true"`` and ``"bf16-mixed"`` (``tools/bench_defenses.py``'s setup: PRBasicCNN on 28x28
    synthetic images on the CPU, ResNet18 on 32x32 with ``--device cuda``).
(b) Attack: ``evaluate_robustness`` with PGD-40 at 4 L-inf epsilons on ``tools/bench_attacks.py``'s
    Fashion-MNIST model (first ``--num-images`` test images), in float32 and under
    ``torch.autocast(dtype=torch.bfloat16)``: seconds and robust accuracies. The attack keeps its
    perturbation, projection and clipping in float32 either way (only the model runs in bf16).

The phases alternate within each repeat; the best time of ``--repeats`` is reported. On the CPU times are the
process's CPU time (one thread: its own work, whatever else runs on the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
from pathlib import Path

import torch
from bench_attacks import best_of, clock_for
from bench_defenses import images_per_second
from bench_report import trained_model

from lit_robust.attacks import PGD
from lit_robust.evaluation import evaluate_robustness

EPSILONS = [e / 255 for e in (2, 4, 8, 16)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num-images", type=int, default=500, help="test images attacked in (b)")
    parser.add_argument("--batch-size", type=int, default=128, help="training and attack batch size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed training batches")
    parser.add_argument("--batches", type=int, default=10, help="timed training batches")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--train-steps", type=int, default=800, help="training of the attacked model")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-cache", default=None, help="reuse (or save) the attacked model's weights")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    return parser.parse_args()


def training(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Median images per second by defense and precision."""
    runs: dict[tuple[str, str], list[float]] = {}
    for repeat in range(args.repeats):
        for name in ("standard", "pgd_at_7"):
            for precision in ("32-true", "bf16-mixed"):
                options = argparse.Namespace(**{**vars(args), "precision": precision})
                options.channels_last = options.compile = options.device_resident = False
                runs.setdefault((name, precision), []).append(images_per_second(name, options))
                print(f"  repeat {repeat + 1}: {name} {precision} {runs[name, precision][-1]:.1f} images/s")
    out: dict[str, dict[str, float]] = {}
    for (name, precision), values in runs.items():
        out.setdefault(name, {})[precision] = statistics.median(values)
    return out


def attack(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    model, x, y = trained_model(args, device)

    def run(bf16: bool) -> list[float]:
        context = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with context:
            report = evaluate_robustness(
                model, x, y, {"pgd": PGD(EPSILONS[0], steps=40)}, EPSILONS, batch_size=args.batch_size
            )
        return [report.accuracy("pgd", e) for e in EPSILONS]

    phases = {"fp32": lambda: run(False), "bf16": lambda: run(True)}
    timed = best_of(args.repeats, phases, device, clock_for(device))
    return {
        "seconds": {name: times for name, (_, times, _) in timed.items()},
        "robust_accuracy": {name: curve for name, (_, _, curve) in timed.items()},
        "epsilons": EPSILONS,
        "num_images": len(y),
    }


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, {args.device}",
        "torch": torch.__version__,
        "training_images_per_second": training(args),
        "pgd": attack(args),
    }
    print_tables(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def print_tables(r: dict) -> None:
    lines = [f"{r['machine']}; torch {r['torch']}", "(a) training images/s   fp32      bf16   bf16 speed-up"]
    for name, by_precision in r["training_images_per_second"].items():
        fp32, bf16 = by_precision["32-true"], by_precision["bf16-mixed"]
        lines.append(f"  {name:18s} {fp32:8.1f}  {bf16:8.1f}   {bf16 / fp32:8.2f}")
    pgd = r["pgd"]
    best = {name: min(t) for name, t in pgd["seconds"].items()}
    lines += [
        f"(b) PGD-40 at {len(pgd['epsilons'])} epsilons on {pgd['num_images']} images: "
        f"fp32 {best['fp32']:.1f} s, bf16 {best['bf16']:.1f} s, speed-up {best['fp32'] / best['bf16']:.2f}",
        "  eps (x255)   fp32     bf16",
    ]
    curves = zip(pgd["epsilons"], pgd["robust_accuracy"]["fp32"], pgd["robust_accuracy"]["bf16"], strict=True)
    lines += [f"  {e * 255:8.0f}  {a:7.2%}  {b:7.2%}" for e, a, b in curves]
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
