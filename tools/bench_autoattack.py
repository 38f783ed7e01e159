"""AutoAttack's strength and cost side by side: (a) torchattacks' components with AutoAttack's settings as a
cascade, (b) our ``standard`` preset, (c) our ``fast`` preset, on a standard and a PGD-trained model.

    python tools/bench_autoattack.py --points 1000 --epochs 3 --json autoattack.json
    python tools/bench_autoattack.py --checkpoints standard.ckpt pgd.ckpt     # reuse trained models

The run resumes: models already saved under ``--save`` are loaded instead of trained, and the methods whose
numbers are already in ``--json`` (written after each one) are not run again.

The models are trained through the package's CLI (``configs/quickstart.yaml`` and
``configs/baselines/pgd_at_fashion_mnist.yaml``), or loaded from ``--checkpoints`` (``--save`` writes the
trained ones). (a) is APGD-CE, APGD-T, FAB-T and Square from torchattacks, built as AutoAttack builds them
(100 steps, 9 target classes, 5,000 queries, one restart; not ``torchattacks.AutoAttack``, whose parts run 10
steps), each run on the points the earlier ones left, as AutoAttack does. Every method's passes are counted
by the same hooks (:mod:`lit_robust.evaluation.counting`): images forwarded and images back-propagated.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import Tensor, nn

from lit_robust.callbacks.transfer import load_source
from lit_robust.cli import run_cli
from lit_robust.data import FashionMNIST
from lit_robust.evaluation import autoattack, evaluate_robustness
from lit_robust.evaluation.counting import PassCounts, counting
from lit_robust.pixels import to_unit_range

CONFIGS = {
    "standard": "configs/quickstart.yaml",
    "pgd_at": "configs/baselines/pgd_at_fashion_mnist.yaml",
}
METHODS = ("torchattacks", "standard", "fast")


def train(config: str, epochs: int, train_batches: int | None, data_dir: str, root: str) -> nn.Module:
    """Fits ``config`` with ``lit-robust fit`` (no validation or logging), saves and returns the model."""
    limit = [f"--trainer.limit_train_batches={train_batches}"] if train_batches else []
    cli = run_cli(
        [
            "fit", "--config", config, f"--trainer.max_epochs={epochs}", *limit,
            "--trainer.limit_val_batches=0", "--trainer.logger=false", "--trainer.enable_checkpointing=false",
            "--trainer.callbacks=[]", "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", f"--trainer.default_root_dir={root}",
            f"--data.source.data_dir={data_dir}",
        ]
    )  # fmt: skip
    cli.trainer.save_checkpoint(Path(root) / "model.ckpt")
    return cli.model.eval()


def torchattacks_cascade(model: nn.Module, x: Tensor, y: Tensor, eps: float, batch_size: int) -> dict:
    """Robust accuracy, seconds and passes of torchattacks' AutoAttack components run as a cascade."""
    import torchattacks

    parts = {
        "apgd-ce": torchattacks.APGD(model, norm="Linf", eps=eps, steps=100, n_restarts=1, loss="ce"),
        "apgd-t": torchattacks.APGDT(model, norm="Linf", eps=eps, steps=100, n_restarts=1, n_classes=10),
        "fab-t": torchattacks.FAB(
            model, norm="Linf", eps=eps, steps=100, n_restarts=1, multi_targeted=True, n_classes=10
        ),
        "square": torchattacks.Square(model, norm="Linf", eps=eps, n_queries=5000, n_restarts=1),
    }
    counts, start, cpu = PassCounts(), time.perf_counter(), time.process_time()
    with counting(model, counts):
        robust = _predict(model, x) == y
        for attack in parts.values():
            for index in robust.nonzero().squeeze(1).split(batch_size):
                if not len(index):  # nothing left to attack (split of no points gives one empty block)
                    continue
                x_adv = attack(x[index], y[index])
                assert (x_adv - x[index]).abs().max() <= eps + 1e-6, "torchattacks left the threat model"
                robust[index[_predict(model, x_adv) != y[index]]] = False
    seconds = time.perf_counter() - start
    return _row(
        robust.double().mean().item(), seconds, time.process_time() - cpu, counts.forward, counts.backward
    )


def preset(
    model: nn.Module, x: Tensor, y: Tensor, eps: float, version: str, batch_size: int, records: Path | None
) -> dict:
    """Robust accuracy, seconds and passes of one of our presets (per-point records saved to ``records``)."""
    attacks, cpu = autoattack(eps, "Linf", version), time.process_time()
    report = evaluate_robustness(model, x, y, attacks, [eps], batch_size=batch_size, worst_case_only=True)
    if records is not None:
        records.parent.mkdir(parents=True, exist_ok=True)
        report.records.save(records)
    forward, backward = report.passes()
    return _row(report.accuracy("worst", eps), report.seconds, time.process_time() - cpu, forward, backward)


def _row(accuracy: float, seconds: float, cpu_seconds: float, forward: int, backward: int) -> dict:
    return {
        "robust_acc": accuracy, "seconds": seconds, "cpu_seconds": cpu_seconds, "forward": forward,
        "backward": backward,
    }  # fmt: skip


def _predict(model: nn.Module, x: Tensor) -> Tensor:
    with torch.no_grad():
        return model(x).argmax(dim=1)


def verdicts(rows: dict, model: str, eps: float) -> list[str]:
    """The targets of issue 14 on one model and epsilon, with the ratios."""
    a, b, c = (rows[method] for method in METHODS)
    lines = [
        f"  (b) - (a) robust acc {100 * (b['robust_acc'] - a['robust_acc']):+.1f} points (target <= +0.2), "
        f"forward {b['forward'] / a['forward']:.3f} of (a), backward "
        f"{b['backward'] / max(a['backward'], 1):.3f} (targets <= 1)",
        f"  (c) - (b) robust acc {100 * (c['robust_acc'] - b['robust_acc']):+.1f} points (target <= +0.2), "
        f"forward {c['forward'] / a['forward']:.4f} of (a) (target <= 0.05), backward "
        f"{c['backward'] / max(a['backward'], 1):.4f} (target <= 0.1, on the adversarially trained model)",
    ]
    return [f"{model}, eps={eps:g}:", *lines]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1000, help="test points evaluated")
    parser.add_argument("--offset", type=int, default=0, help="index of the first test point evaluated")
    parser.add_argument("--epsilons", type=float, nargs="+", default=[0.1, 0.03], help="L-inf radii")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of each model")
    parser.add_argument("--train-batches", type=int, default=None, help="limit the batches of each epoch")
    parser.add_argument("--checkpoints", nargs=2, metavar=("STANDARD", "PGD_AT"), help="load, do not train")
    parser.add_argument("--save", default="bench_autoattack", help="folder of the trained checkpoints")
    parser.add_argument("--data-dir", default="data", help="Fashion-MNIST folder (or the system copy)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", default=None, help="write the numbers to this file")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS, help="run only these")
    parser.add_argument(
        "--models", nargs="+", choices=list(CONFIGS), default=list(CONFIGS), help="only these"
    )
    parser.add_argument(
        "--records", default=None, help="folder for the presets' per-point records (MODEL_EPS_PRESET.csv)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    models = {}
    for index, (name, config) in enumerate(CONFIGS.items()):
        if name not in args.models:
            continue
        saved = Path(args.save) / name / "model.ckpt"
        if args.checkpoints or saved.is_file():
            models[name] = load_source(args.checkpoints[index] if args.checkpoints else saved)
        else:
            models[name] = train(
                config, args.epochs, args.train_batches, args.data_dir, f"{args.save}/{name}"
            )
    data = FashionMNIST(data_dir=args.data_dir)
    data.prepare()
    images, labels = data.load("test")
    chosen = slice(args.offset, args.offset + args.points)
    x, y = to_unit_range(images[chosen].to(device)), labels[chosen].to(device)
    results = _resumed(args.json, len(y), args.offset, device)
    lines = []
    for name, model in models.items():
        model = model.to(device).eval().requires_grad_(False)
        clean = (_predict(model, x) == y).double().mean().item()
        print(
            f"{name}: clean accuracy {clean:.2%} on test points {args.offset} to {args.offset + len(y) - 1}",
            flush=True,
        )
        for eps in args.epsilons:
            rows = results["runs"].setdefault(f"{name}/eps={eps:g}", {"clean_acc": clean})
            for method in args.methods:
                if method not in rows:
                    records = Path(args.records) / f"{name}_{eps:g}_{method}.csv" if args.records else None
                    rows[method] = (
                        torchattacks_cascade(model, x, y, eps, args.batch_size)
                        if method == "torchattacks"
                        else preset(model, x, y, eps, method, args.batch_size, records)
                    )
                    if args.json:  # after every method: an interrupted run resumes from here
                        Path(args.json).write_text(json.dumps(results, indent=1))
                row = rows[method]
                print(
                    f"  eps={eps:g} {method:<13} robust {row['robust_acc']:7.2%}  {row['seconds']:7.1f} s "
                    f"(CPU {row['cpu_seconds']:7.1f} s)  "
                    f"forward {row['forward']:>11,}  backward {row['backward']:>10,}",
                    flush=True,
                )
            if all(method in rows for method in METHODS):
                lines += verdicts(rows, name, eps)
    print("\n".join(["", "Targets (a: torchattacks cascade, b: standard, c: fast)", *lines]))


def _resumed(path: str | None, points: int, offset: int, device: torch.device) -> dict:
    """The numbers of an earlier run on the same test points from ``path``, or a fresh record."""
    fresh = {
        "points": points,
        "offset": offset,
        "device": str(device),
        "torch": torch.__version__,
        "runs": {},
    }
    if path is None or not Path(path).is_file():
        return fresh
    earlier = json.loads(Path(path).read_text())
    held = (earlier.get("points"), earlier.get("offset", 0))
    if held != (points, offset):
        raise SystemExit(
            f"{path} holds a run on {held[0]} points from test point {held[1]}, not {points} from {offset}: "
            "use another file."
        )
    return earlier


if __name__ == "__main__":
    main()
