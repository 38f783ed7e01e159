"""`RobustnessEvaluation`: robust accuracy curves at the end of the validation or test loop."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch import Tensor

from lit_robust.attacks.base import Norm
from lit_robust.callbacks.schedule import evaluation_due
from lit_robust.callbacks.subset import EvaluationSubset
from lit_robust.callbacks.tensorboard import log_examples, log_figure, log_text
from lit_robust.evaluation.engine import BlockEvaluator
from lit_robust.evaluation.plan import AttackFn, Epsilons, make_plan
from lit_robust.evaluation.plots import accuracy_figure
from lit_robust.evaluation.results import Kind, Summary
from lit_robust.evaluation.sanity import SanityFlag, run_sanity_checks, warn_flags
from lit_robust.evaluation.summary import SummaryAccumulator
from lit_robust.validation import check_callback_settings


class RobustnessEvaluation(Callback):
    """Attacks a fixed subset of the validation (or test) data at the end of the loop and logs the results.

    The subset is the first ``num_samples`` points of the loader, collected from the device batches as they
    pass (after ``on_after_batch_transfer``, so images are floats in [0, 1]); no nested Trainer and no second
    pass over the data. At the loop's end every rank receives the whole subset, splits it into blocks of
    ``batch_size`` and attacks the blocks ``rank, rank + W, ...``; block results are accumulated in
    torchmetrics with "sum" reduction, so the logged numbers equal a single-process run on the same points,
    also for randomised attacks (each block's generators are seeded from ``seed`` and the block's index).
    Evaluation runs under ``torch.inference_mode(False)``, on copies of the batches made outside it, and in
    the trainer's precision (``bf16-mixed``: the model computes under autocast while the attacks keep their
    perturbations, projections and clipping in float32, see :func:`lit_robust.attacks.base.model_logits`).

    Logged (``{stage}`` is ``val`` or ``test``): ``{stage}/robust_acc/{attack}/eps={eps}``,
    ``{stage}/robust_acc/worst/eps={eps}``, ``{stage}/rho/{attack}`` (minimum-norm attacks, whose
    ``eps=inf`` accuracy is the share of points they failed on), ``{stage}/robust_eval/clean_acc`` (on the
    subset), ``{stage}/robust_eval/seconds`` (the slowest rank) and, with sanity checks,
    ``{stage}/robust_eval/sanity_flags`` (the number of failed checks, each also warned). With a
    TensorBoard logger: a figure of accuracy against epsilon, a grid of clean and adversarial images and the
    flags' messages.

    Args:
        attacks: attacks by name (lit_robust attacks, or any callable ``(model, x, y) -> x_adv``).
        epsilons: the epsilon grid, lists by norm or attack name, or ``None`` (see
            :mod:`lit_robust.evaluation.plan`).
        norm: norm of the epsilon grid and of the worst case.
        every_n_epochs: while fitting, evaluate every this many epochs (validate and test always evaluate).
        num_samples: size of the evaluation subset.
        batch_size: points attacked at once.
        sanity_checks: run the sanity checks (:mod:`lit_robust.evaluation.sanity`; adds L-inf eps 1).
        tolerance: accuracy difference (a fraction) that makes a sanity check fail.
        seed: seed of the attacks' per-block generators (``None``: each attack's own seeding).
        log_images: log clean and adversarial images to TensorBoard.
        num_images: images per row of that grid.
        log_figure: log the accuracy-against-epsilon figure to TensorBoard.
        worst_case_only: run the bounded attacks of the grid's norm as a cascade that gives their worst case
            alone, without their own curves (see :mod:`lit_robust.evaluation.plan`): cheaper, the same or a
            lower worst-case accuracy.
    """

    log_group = "robust_eval"
    accuracy_kind: Kind = "robust_acc"
    logged_kinds: tuple[Kind, ...] = ("clean_acc", "robust_acc", "rho")

    def __init__(
        self,
        attacks: Mapping[str, AttackFn],
        epsilons: Epsilons = None,
        norm: Norm = "Linf",
        every_n_epochs: int = 1,
        num_samples: int = 512,
        batch_size: int = 256,
        sanity_checks: bool = False,
        tolerance: float = 0.02,
        seed: int | None = 0,
        log_images: bool = True,
        num_images: int = 8,
        log_figure: bool = True,
        worst_case_only: bool = False,
    ) -> None:
        check_callback_settings(
            attacks, epsilons, every_n_epochs, num_samples, batch_size, tolerance, seed, num_images
        )
        self.plan = make_plan(
            attacks, epsilons, norm, add_unbounded=sanity_checks, worst_case_only=worst_case_only
        )
        self.subset = EvaluationSubset(num_samples)
        self.every_n_epochs = every_n_epochs
        self.batch_size = batch_size
        self.sanity_checks = sanity_checks
        self.tolerance = tolerance
        self.seed = seed
        self.num_images = num_images if log_images else 0
        self.log_figure = log_figure
        self.summary: Summary = {}
        """The numbers of the last evaluation (also flags in :attr:`flags`)."""
        self.flags: list[SanityFlag] = []
        self._active = False

    # ---------------------------------------------------------------------------------------------- hooks
    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start(trainer, trainer.val_dataloaders)

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start(trainer, trainer.test_dataloaders)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self._active and dataloader_idx == 0:
            self.subset.add(batch[0], batch[1])

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self.on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._active:
            self._evaluate(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._active:
            self._evaluate(trainer, pl_module, "test")

    # ------------------------------------------------------------------------------------------- helpers
    def evaluators(self, pl_module: L.LightningModule) -> dict[bool, BlockEvaluator]:
        """The evaluators to run, keyed by whether their results are transfer results."""
        return {False: BlockEvaluator(pl_module, self.plan, seed=self.seed)}

    def _start(self, trainer: L.Trainer, loaders: Any) -> None:
        self._active = evaluation_due(trainer, self.every_n_epochs)
        if self._active:
            loader = loaders[0] if isinstance(loaders, (list, tuple)) else loaders
            self.subset.reset(trainer.global_rank, trainer.world_size, loader)

    def _evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        start = time.perf_counter()
        with torch.inference_mode(False), trainer.precision_plugin.forward_context():
            x, y = self.subset.gather(trainer.strategy)
            evaluators = self.evaluators(pl_module)
            accumulators = {t: SummaryAccumulator(self.plan, t, device=x.device) for t in evaluators}
            examples: dict[str, Tensor] = {}
            for block in range(trainer.global_rank, -(-len(x) // self.batch_size), trainer.world_size):
                xb, yb = (t[block * self.batch_size : (block + 1) * self.batch_size] for t in (x, y))
                for transfer, evaluator in evaluators.items():
                    evaluator.keep_examples = self.num_images if block == 0 else 0
                    accumulators[transfer].update(evaluator(xb, yb, block))
                    if transfer == (self.accuracy_kind == "transfer_acc") and block == 0:
                        examples = evaluator.examples
            self.summary = {c: v for acc in accumulators.values() for c, v in acc.compute().items()}
        self.flags = run_sanity_checks(self.summary, self.plan, self.tolerance) if self.sanity_checks else []
        seconds = time.perf_counter() - start
        self._log(trainer, pl_module, stage, seconds, x[: self.num_images], examples)

    def _log(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        stage: str,
        seconds: float,
        clean: Tensor,
        examples: dict[str, Tensor],
    ) -> None:
        values = {f"{stage}/{self.log_group}/seconds": seconds}
        for column, value in self.summary.items():
            if column.kind in self.logged_kinds:
                name = f"{self.log_group}/clean_acc" if column.kind == "clean_acc" else column.name
                values[f"{stage}/{name}"] = value
        if self.sanity_checks:
            values[f"{stage}/{self.log_group}/sanity_flags"] = float(len(self.flags))
        # Every rank holds the same synchronised values (the time differs): "max" keeps them exact.
        pl_module.log_dict(values, sync_dist=True, reduce_fx="max", batch_size=1)
        if trainer.is_global_zero:
            warn_flags(self.flags)
        if self.flags:
            log_text(trainer, f"{stage}/{self.log_group}/sanity", [str(f) for f in self.flags])
        if self.log_figure:
            title = f"{self.accuracy_kind.replace('_', ' ')}, epoch {trainer.current_epoch}"
            figure = accuracy_figure(self.summary, self.accuracy_kind, self.plan.norm, title)
            log_figure(trainer, f"{stage}/{self.log_group}/accuracy_vs_eps", figure)
        if self.num_images and examples:
            log_examples(trainer, f"{stage}/{self.log_group}/examples", clean, examples)
