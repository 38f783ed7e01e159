"""Benchmark: training images per second of every defense, relative to standard training, in one run.

    python tools/bench_defenses.py [--device cpu] [--batches 15] [--repeats 3] [--threads 1]
        [--precision 32-true] [--channels-last] [--compile] [--device-resident] [--only pgd_at_3,trades]
        [--json defenses.json]

Every defense trains the same backbone on synthetic images through ``Trainer.fit`` (one epoch of
``--warmup + --batches`` batches of ``--batch-size``, no validation, no logger) and the ``TrainingThroughput``
callback times the batches after the warm-up. On the CPU the backbone is ``PRBasicCNN`` on 1x28x28 images (a
small CNN); with ``--device cuda`` it is ``ResNet18`` on 3x32x32 images (CIFAR-10 sized). The defenses run in
turn within each repeat, and the median of ``--repeats`` is reported with its ratio to standard training
(the cost of one image relative to standard training). On the CPU the time is the process's CPU time
(one thread: its own work, whatever else runs on the shared machine), on a GPU wall time. PGD adversarial
training with k steps (Madry et al., adversarial examples only) has the target ``ratio <= 1.1 * (k + 1)``:
k attack steps and one training forward-backward pass.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from torch import nn

from lit_robust.attacks import FGSM, PGD
from lit_robust.callbacks import TrainingThroughput
from lit_robust.data import ConstantPerturbations, ImageDataModule, SyntheticImages
from lit_robust.defenses import (
    TRADES,
    AdversarialTraining,
    AdversaryCritic,
    PixelRedrawnClassifier,
    RandomLayerSampling,
    RobustClassifier,
    TripletAdversarialTraining,
    VariablePerturbations,
    VirtualAdversarialTraining,
)
from lit_robust.models import Critic, PRBasicCNN, ResNet18
from lit_robust.models.pixel_redraw import PixelRedrawer

EPS = 8 / 255
Factory = Callable[[nn.Module, dict], L.LightningModule]
Shape = tuple[int, int]  # (channels, size)


def critic(shape: Shape) -> Critic:
    channels, size = shape
    return Critic(in_channels=channels, num_classes=10, input_size=size, hidden_sizes=[512, 512])


DEFENSES: dict[str, tuple[Factory, str]] = {
    "standard": (lambda b, kw: RobustClassifier(b, **kw), "RobustClassifier: cross-entropy on clean images"),
    "constant_perturbations": (
        lambda b, kw: RobustClassifier(b, **kw),
        "standard training on the ConstantPerturbations set (K=1)",
    ),
    "variable_perturbations": (
        lambda b, kw: VariablePerturbations(b, eps=EPS, **kw),
        "VariablePerturbations: fresh uniform noise per batch",
    ),
    "fgsm_at": (
        lambda b, kw: AdversarialTraining(b, FGSM(EPS), **kw),
        "AdversarialTraining, FGSM, clean + adv",
    ),
    "pgd_at_3": (
        lambda b, kw: AdversarialTraining(b, PGD(EPS, steps=3), adv_only=True, **kw),
        "AdversarialTraining, PGD k=3, adv only",
    ),
    "pgd_at_7": (
        lambda b, kw: AdversarialTraining(b, PGD(EPS, steps=7), adv_only=True, **kw),
        "AdversarialTraining, PGD k=7, adv only",
    ),
    "trades": (lambda b, kw: TRADES(b, eps=EPS, steps=10, **kw), "TRADES, 10 KL steps"),
    "vat": (
        lambda b, kw: VirtualAdversarialTraining(b, **kw),
        "VirtualAdversarialTraining, 1 power iteration",
    ),
    "triplet_at": (
        lambda b, kw: TripletAdversarialTraining(b, FGSM(EPS), **kw),
        "TripletAdversarialTraining (AT2L), FGSM",
    ),
    "layer_sampling": (lambda b, kw: RandomLayerSampling(b, **kw), "RandomLayerSampling, M=2, K=3"),
    "pixel_redrawn": (
        lambda b, kw: PixelRedrawnClassifier(b, PixelRedrawer(k=3), **kw),
        "PixelRedrawnClassifier, k=3, batches redrawn",
    ),
    "adversary_critic": (
        lambda b, kw: AdversaryCritic(b, critic(kw.pop("shape")), pretrain_epochs=0, **kw),
        "AdversaryCritic (manual optimisation), 5 attack steps",
    ),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu (PRBasicCNN, 28x28) or cuda (ResNet18, 32x32)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches at the start")
    parser.add_argument("--batches", type=int, default=15, help="timed batches")
    parser.add_argument("--repeats", type=int, default=3, help="the median is reported")
    parser.add_argument("--precision", default="32-true", help="Lightning precision, e.g. bf16-mixed")
    parser.add_argument("--channels-last", action="store_true", help="RobustClassifier(channels_last=True)")
    parser.add_argument("--compile", action="store_true", help="RobustClassifier(compile=True)")
    parser.add_argument("--device-resident", action="store_true", help="data on the device, indexed there")
    parser.add_argument("--only", default=None, help="comma-separated defenses (standard is always run)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    return parser.parse_args()


def datamodule(name: str, shape: Shape, args: argparse.Namespace) -> ImageDataModule:
    channels, size = shape
    count = (args.warmup + args.batches) * args.batch_size
    perturbed = name == "constant_perturbations"  # half the epoch is perturbed copies: same cost per image
    source = SyntheticImages(
        num_samples=count // 2 if perturbed else count,
        num_test_samples=1,
        in_channels=channels,
        input_size=size,
    )
    return ImageDataModule(
        source,
        batch_size=args.batch_size,
        val_size=0,
        device_resident=args.device_resident,
        steps=[ConstantPerturbations(copies=1, eps=EPS, progress=False)] if perturbed else [],
    )


def images_per_second(name: str, args: argparse.Namespace) -> float:
    cuda = args.device.startswith("cuda")
    shape: Shape = (3, 32) if cuda else (1, 28)
    torch.manual_seed(0)
    backbone = ResNet18(num_classes=10) if cuda else PRBasicCNN(in_channels=1, num_classes=10, input_size=28)
    options = {"num_classes": 10, "channels_last": args.channels_last, "compile": args.compile}
    if name == "adversary_critic":
        options["shape"] = shape
    model = DEFENSES[name][0](backbone, options)
    throughput = TrainingThroughput(warmup_batches=args.warmup, clock="wall" if cuda else "process")
    trainer = L.Trainer(
        accelerator="gpu" if cuda else "cpu",
        devices=1,
        precision=args.precision,
        max_epochs=1,
        limit_train_batches=args.warmup + args.batches,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[throughput],
    )
    trainer.fit(model, datamodule=datamodule(name, shape, args))
    return throughput.images_per_second


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = list(DEFENSES) if args.only is None else ["standard", *args.only.split(",")]
    unknown = set(names) - set(DEFENSES)
    if unknown:
        raise ValueError(f"--only: unknown defenses {sorted(unknown)}; choose from {list(DEFENSES)}.")
    runs: dict[str, list[float]] = {name: [] for name in dict.fromkeys(names)}
    for repeat in range(args.repeats):
        for name in runs:
            runs[name].append(images_per_second(name, args))
            print(f"  repeat {repeat + 1}: {name} {runs[name][-1]:.1f} images/s", flush=True)
    median = {name: statistics.median(values) for name, values in runs.items()}
    results = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, {args.device}",
        "torch": torch.__version__,
        "lightning": L.__version__,
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "only")},
        "images_per_second": runs,
        "cost_relative_to_standard": {name: median["standard"] / value for name, value in median.items()},
    }
    print_table(results, median)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def print_table(results: dict, median: dict[str, float]) -> None:
    settings = results["settings"]
    lines = [
        f"{results['machine']}; torch {results['torch']}, lightning {results['lightning']}",
        f"batch {settings['batch_size']}, {settings['batches']} timed batches after {settings['warmup']}, "
        f"median of {settings['repeats']}, precision {settings['precision']}",
        f"{'defense':24s} {'images/s':>9s} {'cost x standard':>16s}  target",
    ]
    for name, value in median.items():
        ratio = results["cost_relative_to_standard"][name]
        target = ""
        if name.startswith("pgd_at_"):
            k = int(name.rsplit("_", 1)[1])
            target = f"<= {1.1 * (k + 1):.1f} ({ratio / (k + 1):.3f} x (k+1))"
        lines.append(f"{name:24s} {value:9.1f} {ratio:16.2f}  {target}")
    lines += ["", *(f"{name}: {DEFENSES[name][1]}" for name in median)]
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
