"""`evaluate_robustness`: robust accuracy of a model under a set of attacks, without a Trainer."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lit_robust.attacks.base import Model, Norm
from lit_robust.evaluation.engine import DRAWS, BlockEvaluator, is_randomized
from lit_robust.evaluation.plan import AttackFn, Epsilons, make_plan
from lit_robust.evaluation.report import RobustnessReport
from lit_robust.evaluation.results import PointResults
from lit_robust.evaluation.sanity import run_sanity_checks, warn_flags
from lit_robust.pixels import to_unit_range
from lit_robust.validation import check_evaluation_settings, checked_evaluation_data

Batches = Iterable[tuple[Tensor, Tensor]]


def evaluate_robustness(
    model: Model,
    x: Tensor | Batches,
    y: Tensor | None = None,
    attacks: Mapping[str, AttackFn] | None = None,
    epsilons: Epsilons = None,
    *,
    norm: Norm = "Linf",
    batch_size: int = 256,
    source: Model | None = None,
    sanity_checks: bool = False,
    tolerance: float = 0.02,
    seed: int | None = 0,
    device: torch.device | str | None = None,
    verbose: bool = False,
    worst_case_only: bool = False,
    randomized: bool | None = None,
    draws: int = DRAWS,
) -> RobustnessReport:
    """Clean and robust accuracy of ``model`` under every attack at every epsilon, and the worst case.

    A point counts in the worst case at a grid epsilon only if every attack of the grid's norm evaluated
    there failed on it. Minimum-norm attacks (``attack.minimum_norm``) also give rho (see
    :class:`lit_robust.metrics.Rho`; points the attack failed on are not averaged, they are the attack's
    robust accuracy at ``eps=inf``). See :mod:`lit_robust.evaluation.plan` for how ``epsilons`` and ``norm``
    assign epsilons to attacks and :mod:`lit_robust.evaluation.engine` for the speed rules, which do not
    change the numbers. Models that are ``nn.Module`` are put in eval mode for the evaluation and restored.

    Args:
        model: the evaluated model, logits of images in [0, 1] (a ``RobustClassifier`` from a checkpoint).
        x: images in [0, 1] ``(N, C, H, W)``, or an iterable of ``(images, labels)`` batches (a DataLoader;
            uint8 images are scaled to [0, 1] as the datamodules do on the device). Each batch is one block.
        y: labels when ``x`` is a tensor.
        attacks: attacks by name: lit_robust attacks or any callable ``(model, x, y) -> x_adv``.
        epsilons: the grid (a list in ``norm``), lists by norm or attack name, or ``None`` (attacks' own).
        norm: norm of the epsilon grid and of the worst case.
        batch_size: block size when ``x`` is a tensor.
        source: craft the examples on this model and evaluate them on ``model`` (transfer results).
        sanity_checks: run :func:`~lit_robust.evaluation.sanity.run_sanity_checks` (adds L-inf eps 1, and
            with a ``source`` also the white-box attacks), warn and report the flags.
        tolerance: accuracy difference (a fraction) that makes a sanity check fail.
        seed: seed of the per-block generators of lit_robust attacks (``None``: their own seeding).
        device: where to evaluate; defaults to the device of the model's parameters.
        verbose: show a progress bar over blocks.
        worst_case_only: run the bounded attacks of the grid's norm as a cascade that gives their worst case
            alone, without their own columns (see :mod:`lit_robust.evaluation.plan`): faster, the same or a
            lower worst-case accuracy.
        randomized: whether the model is a randomised defense; ``None`` reads the model's ``randomized``
            attribute (``False`` when it has none). A randomised model's predictions, clean and under attack,
            are the majority vote of ``draws`` fresh draws, and attacks keep all their steps (see
            :mod:`lit_robust.evaluation.engine`); attack it through ``EOT`` for EOT gradients. For the spread
            over repeated evaluations, see :func:`~lit_robust.evaluation.repeated.evaluate_repeatedly`.
        draws: draws per majority vote of a randomised model.

    Example (a checkpoint, no Trainer)::

        model = RobustClassifier.load_from_checkpoint("best.ckpt", weights_only=True)
        data = ImageDataModule(FashionMNIST(data_dir="data"))
        data.setup("test")
        attacks = {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=40), "deepfool": DeepFool(steps=500)}
        report = evaluate_robustness(model, data.test_dataloader(), attacks=attacks,
                                     epsilons=[0.05, 0.1, 0.2], sanity_checks=True, verbose=True)
        print(report)  # a table and the passes; report.to_dict(), report.figure(), report.passes(),
        report.records.save("points.csv")  # per point: where it broke, by which attack, its margin

    Raises:
        ValueError: for inconsistent attacks and epsilons (see :func:`~lit_robust.evaluation.plan.make_plan`),
            or a tensor ``x`` without labels.
    """
    check_evaluation_settings(attacks or {}, epsilons, batch_size, tolerance, seed)
    plan = make_plan(
        attacks or {}, epsilons, norm, add_unbounded=sanity_checks, worst_case_only=worst_case_only
    )
    device = torch.device(device) if device is not None else _device(model)
    x = checked_evaluation_data(x, y)
    votes = draws if is_randomized(model, randomized) else None
    evaluators = {
        "white_box": BlockEvaluator(model, plan, seed=seed, draws=votes)
        if source is None or sanity_checks
        else None,
        "transfer": BlockEvaluator(model, plan, source, seed, draws=votes) if source is not None else None,
    }
    parts: dict[str, list[PointResults]] = {name: [] for name, e in evaluators.items() if e is not None}
    start = time.perf_counter()
    with _eval_mode(model, source):
        blocks = _blocks(x, y, batch_size, device)
        for block, (xb, yb) in enumerate(tqdm(blocks, desc="robustness", disable=not verbose, leave=False)):
            for name in parts:
                parts[name].append(evaluators[name](xb, yb, block))
    results = {name: PointResults.cat(p) for name, p in parts.items()}
    report = RobustnessReport(plan, results.get("white_box"), results.get("transfer"))
    if sanity_checks:
        report.flags = run_sanity_checks(report.summary, plan, tolerance)
        warn_flags(report.flags)
    report.seconds = time.perf_counter() - start
    return report


def _blocks(x: Tensor | Batches, y: Tensor | None, batch_size: int, device: torch.device) -> Batches:
    if isinstance(x, Tensor):
        if y is None:
            raise ValueError("evaluate_robustness: pass labels y with an image tensor x.")
        return _to_device(zip(x.split(batch_size), y.split(batch_size), strict=True), device)
    return _to_device(x, device)


def _to_device(batches: Batches, device: torch.device) -> Iterator[tuple[Tensor, Tensor]]:
    for xb, yb in batches:
        xb = xb.to(device)
        yield to_unit_range(xb), yb.to(device)


def _device(model: Model) -> torch.device:
    parameter = next(model.parameters(), None) if isinstance(model, nn.Module) else None
    return parameter.device if parameter is not None else torch.device("cpu")


@contextmanager
def _eval_mode(*models: Model | None) -> Iterator[None]:
    modules = [m for m in models if isinstance(m, nn.Module)]
    modes = [[(sub, sub.training) for sub in m.modules()] for m in modules]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for sub, training in (pair for pairs in modes for pair in pairs):
            sub.training = training
