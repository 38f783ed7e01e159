"""Reproduces ensemble AT2L (Li et al. 2019, Algorithm 2) on the MNIST sample: the "known" setting (the
evaluated model f, model A, is in M = {f, B, C, D}) against the "unknown" one (M = {B, C, D}).

Per seed: f is pretrained with standard training (Algorithm 2, step 1; these epochs are also the standard
training time the ensemble epochs are compared with), the sources B, C and D are trained once on clean data
and saved, and a second model A (another seed, "A'") is trained as the source of transfer attacks. Then f is
trained for ``--rounds`` rounds of one epoch in each setting from the same pretrained weights
(:class:`~lit_robust.data.EnsembleAdversarialExamples` with the paper's gradient-based attacks FGSM, LL,
I-FGSM and I-LL, and :class:`~lit_robust.defenses.EnsembleTripletAdversarialTraining`), and evaluated
white-box (FGSM, PGD, PGD with restarts, APGD-CE/DLR, their worst case) and with FGSM and PGD examples
transferred from A'. Each result is saved as JSON under ``--results-dir`` and skipped when run again. The run
in docs/results/at2l.md::

    python tools/reproduce_at2l_ensemble.py --seeds 0 1 2 --rounds 2 --pretrain-epochs 2 \\
        --source-epochs 1 --examples-per-image 1 --test-size 500 --eval-steps 20 --restarts 2 \\
        --threads 1 --results-dir /tmp/at2l-ensemble-results
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from reproduce_at2l import evaluation_attacks, table
from reproduction import load_mnist_sample_subset, timed_datamodule_fit, timed_fit

from lit_robust.attacks import BIM, FGSM, ILL, LL, PGD, Attack
from lit_robust.data import MNIST, EnsembleAdversarialExamples, SourceModel, train_source
from lit_robust.data.seeding import seeded_generator
from lit_robust.defenses import EnsembleTripletAdversarialTraining, RobustClassifier
from lit_robust.evaluation import evaluate_robustness
from lit_robust.models import MnistModelA, MnistModelB, MnistModelC, MnistModelD

SOURCES = {"B": MnistModelB, "C": MnistModelC, "D": MnistModelD}
SETTINGS = ("known", "unknown")


def training_attacks(eps: float) -> dict[str, Attack]:
    """The paper's gradient-based set A: FGSM, LL, I-FGSM and I-LL (10 steps of eps / 10)."""
    return {
        "fgsm": FGSM(eps),
        "ll": LL(eps),
        "i_fgsm": BIM(eps, steps=10, step_size=eps / 10),
        "i_ll": ILL(eps, steps=10, step_size=eps / 10),
    }


def base_data(args: argparse.Namespace) -> MNIST:
    data = MNIST(data_dir=args.data_dir, sample=True, val_size=0, batch_size=args.batch_size, seed=0)
    data.setup("fit")
    return data


def evaluate(model: torch.nn.Module, args: argparse.Namespace, test: tuple, transfer_source: Any) -> dict:
    """White-box accuracies (and their worst case) and the accuracies under FGSM/PGD transferred from A'."""
    x_test, y_test = test
    attacks = evaluation_attacks(args.eps, args.eval_steps, args.restarts)
    report = evaluate_robustness(model, x_test, y_test, attacks=attacks, epsilons=[args.eps], seed=0)
    row = {"clean": report.clean_accuracy}
    row |= {name: report.accuracy(name, args.eps) for name in [*attacks, "worst"]}
    transfer = {"FGSM from A'": FGSM(args.eps), "PGD from A'": PGD(args.eps, steps=args.eval_steps)}
    moved = evaluate_robustness(
        model, x_test, y_test, attacks=transfer, epsilons=[args.eps], source=transfer_source, seed=0
    )
    return row | {name: moved.accuracy(name, args.eps, transfer=True) for name in transfer}


def prepare_seed(args: argparse.Namespace, seed: int, folder: Path, log: Callable[[str], None]) -> dict:
    """Pretrains f and A', trains the sources; saves them under ``folder`` (reloaded when present)."""
    saved = folder / "standard.json"
    if saved.exists():
        return json.loads(saved.read_text())
    train_set, x_test, y_test, mean, std = load_mnist_sample_subset(args.data_dir, 4000, args.test_size)
    models = {}
    for name, model_seed in (("f", seed), ("A'", seed + 1000)):
        L.seed_everything(model_seed, verbose=False)
        models[name] = RobustClassifier(MnistModelA(), num_classes=10, mean=mean, std=std)
        wall_s, cpu_s = timed_fit(models[name], train_set, args.batch_size, args.pretrain_epochs, model_seed)
        torch.save(models[name].state_dict(), folder / f"{name}.pt")
        if name == "f":
            timing = {"epoch_s": wall_s / args.pretrain_epochs, "epoch_cpu_s": cpu_s / args.pretrain_epochs}
    data = base_data(args)
    for index, (name, structure) in enumerate(SOURCES.items()):
        L.seed_everything(seed * 10 + index, verbose=False)
        source = SourceModel(structure(), mean, std)
        train_source(
            source, data.train_data, args.source_epochs, args.batch_size, 1e-3,
            seeded_generator(seed, index), torch.device("cpu"), progress=False,
        )  # fmt: skip
        torch.save(source.state_dict(), folder / f"source_{name}.pt")
        timing[f"source {name} clean"] = (source(x_test).argmax(1) == y_test).float().mean().item()
    row = timing | evaluate(models["f"], args, (x_test, y_test), models["A'"].eval())
    saved.write_text(json.dumps(row, indent=1))
    log(f"seed {seed} standard (pretrained f): {row}")
    return row


def run_setting(args: argparse.Namespace, seed: int, setting: str, folder: Path) -> dict:
    """Rounds of ensemble AT2L from the pretrained f in ``setting``; the evaluated row with its timing."""
    _, x_test, y_test, mean, std = load_mnist_sample_subset(args.data_dir, 1, args.test_size)
    L.seed_everything(seed, verbose=False)
    model = EnsembleTripletAdversarialTraining(
        MnistModelA(), args.lambda1, args.lambda2, args.alpha, num_classes=10, mean=mean, std=std
    )
    model.load_state_dict(torch.load(folder / "f.pt", weights_only=True))
    data = EnsembleAdversarialExamples(
        base_data(args),
        attacks=training_attacks(args.eps),
        sources=[structure() for structure in SOURCES.values()],
        setting=setting,
        source_checkpoints=[str(folder / f"source_{name}.pt") for name in SOURCES],
        epochs_per_round=1,
        examples_per_image=args.examples_per_image,
        seed=seed,
        progress=False,
    )
    wall_s, cpu_s = timed_datamodule_fit(model, data, args.rounds, reload_dataloaders_every_n_epochs=1)
    held_out = RobustClassifier(MnistModelA(), num_classes=10, mean=mean, std=std)
    held_out.load_state_dict(torch.load(folder / "A'.pt", weights_only=True))
    timing = {"epoch_s": wall_s / args.rounds, "epoch_cpu_s": cpu_s / args.rounds}
    return timing | evaluate(model, args, (x_test, y_test), held_out.eval())


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> str:
    torch.set_num_threads(args.threads)
    results: dict[str, list[dict[str, float]]] = {"standard": [], **{s: [] for s in SETTINGS}}
    for seed in args.seeds:
        folder = Path(args.results_dir, f"seed{seed}")
        folder.mkdir(parents=True, exist_ok=True)
        results["standard"].append(prepare_seed(args, seed, folder, log))
        for setting in SETTINGS:
            saved = folder / f"{setting}.json"
            if not saved.exists():
                row = run_setting(args, seed, setting, folder)
                saved.write_text(json.dumps(row, indent=1))
                log(f"seed {seed} {setting}: {row}")
            results[setting].append(json.loads(saved.read_text()))
    attacks = evaluation_attacks(args.eps, args.eval_steps, args.restarts)
    return table(results, ["clean", *attacks, "worst", "FGSM from A'", "PGD from A'"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--results-dir", required=True, help="JSON results and trained models per seed")
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--pretrain-epochs", type=int, default=2, help="step 1 of Algorithm 2 (and of A')")
    parser.add_argument("--source-epochs", type=int, default=1, help="clean training of B, C and D")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of one epoch each")
    parser.add_argument("--examples-per-image", type=int, default=1, help="(attack, model) pairs per round")
    parser.add_argument("--batch-size", type=int, default=32, help="k in the paper (32)")
    parser.add_argument("--eps", type=float, default=0.3, help="L-inf radius of training and evaluation")
    parser.add_argument("--lambda1", type=float, default=0.3)
    parser.add_argument("--lambda2", type=float, default=1.0)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--eval-steps", type=int, default=20, help="steps of PGD and APGD at evaluation")
    parser.add_argument("--restarts", type=int, default=2, help="restarts of the second PGD")
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(run(parse_args()))
