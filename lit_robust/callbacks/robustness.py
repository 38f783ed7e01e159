"""`RobustnessEvaluation`: robust accuracy curves at the end of the validation or test loop."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn
from matplotlib.figure import Figure
from torch import Tensor

from lit_robust.attacks.base import Norm, flat_norm
from lit_robust.callbacks.progress import AttackProgress, console_print
from lit_robust.callbacks.schedule import evaluation_due, final_validation, warn_if_never_due
from lit_robust.callbacks.subset import EvaluationSubset
from lit_robust.callbacks.tensorboard import log_custom_scalars, log_figure, log_hp_metric, log_text
from lit_robust.evaluation.engine import DRAWS, BlockEvaluator, is_randomized
from lit_robust.evaluation.plan import UNBOUNDED_LINF, WORST, AttackFn, Epsilons, format_eps, make_plan
from lit_robust.evaluation.plots import CLEAN, accuracy_figure, examples_figure
from lit_robust.evaluation.presets import Version, with_preset
from lit_robust.evaluation.records import PointRecords
from lit_robust.evaluation.results import MEASURES, Column, Kind, Summary, merge_summaries
from lit_robust.evaluation.sanity import SanityFlag, run_sanity_checks, warn_flags
from lit_robust.evaluation.summary import SummaryAccumulator
from lit_robust.evaluation.table import accuracy_table
from lit_robust.validation import check_callback_settings, check_int

NORM_SUBSCRIPTS = {"Linf": "inf", "L2": "2", "L1": "1"}


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
    subset), ``{stage}/robust_eval/forward_passes`` and ``.../backward_passes`` (images forwarded through
    and back-propagated through the model, summed over ranks; per attack ``.../forward_passes/{attack}``:
    see :mod:`lit_robust.evaluation.counting`), ``{stage}/robust_eval/seconds`` (the slowest rank) and, with
    sanity checks,
    ``{stage}/robust_eval/sanity_flags`` (the number of failed checks, each also warned). With a
    TensorBoard logger: a figure of accuracy against epsilon, a figure of the clean images and each attack's
    examples with the model's predictions (:func:`lit_robust.evaluation.plots.examples_figure`) and the
    flags' messages; from validation, a Custom Scalars layout (one chart per epsilon with every attack, the
    worst case and the clean accuracy over the steps, one chart of the worst case at every epsilon) and, at
    the end of a fit, ``hp_metric``: the final worst-case accuracy at ``hp_metric_eps``.

    On the console (global rank 0): a progress bar of the attack phase (where the trainer shows its own) and,
    after each evaluation, a table of the clean, per-attack and worst-case accuracies by epsilon.

    In YAML, an AutoAttack preset by name (:func:`lit_robust.evaluation.autoattack`, run as a cascade)::

        - class_path: lit_robust.callbacks.RobustnessEvaluation
          init_args: {preset: standard, epsilons: [0.03137, 0.1], records_dir: robust_records}

    Args:
        attacks: attacks by name (lit_robust attacks, or any callable ``(model, x, y) -> x_adv``), run after
            the preset's.
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
        num_images: images per column of that figure.
        log_figure: log the accuracy-against-epsilon figure to TensorBoard.
        worst_case_only: run the bounded attacks of the grid's norm as a cascade that gives their worst case
            alone, without their own curves (see :mod:`lit_robust.evaluation.plan`): cheaper, the same or a
            lower worst-case accuracy. ``None``: only with a preset.
        at_fit_end: also evaluate in the fit's last validation loop (the final model), whatever
            ``every_n_epochs`` (see :func:`lit_robust.callbacks.schedule.final_validation`).
        hp_metric_eps: the epsilon of ``hp_metric`` (``None``: the grid's largest, leaving out the sanity
            checks' eps 1).
        print_table: print the table of each evaluation on the console.
        preset: an AutoAttack version (``standard``, ``rand``, ``fast``) built at the grid's largest epsilon
            in ``norm`` (see :mod:`lit_robust.evaluation.presets`).
        records_dir: save the per-point records of each evaluation there, as
            ``{stage}_epoch={epoch}.csv``, or ``{stage}_{name}_epoch={epoch}.csv`` when named (see
            :mod:`lit_robust.evaluation.records`); global rank 0 writes.
        draws: a randomised defense (a module whose ``randomized`` attribute is true: layer sampling, Pixel
            Redrawn or noise at test time) is judged, clean and attacked, by the majority of this many
            fresh draws of its prediction (see :mod:`lit_robust.evaluation.engine`).
        name: a name for this evaluation's keys, ``{stage}/{name}/...`` instead of ``{stage}/...`` (for
            example ``autoattack``), so that it runs beside another evaluation of the same kind (the
            paper's attacks, and a preset's cascade); its table and figures carry the name too.
    """

    log_group = "robust_eval"
    accuracy_kind: Kind = "robust_acc"
    logged_kinds: tuple[Kind, ...] = ("robust_acc", "rho")
    """Kinds of per-attack columns logged as ``{stage}/{column}`` (grouped kinds are always logged)."""

    def __init__(
        self,
        attacks: Mapping[str, AttackFn] | None = None,
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
        worst_case_only: bool | None = None,
        at_fit_end: bool = True,
        hp_metric_eps: float | None = None,
        print_table: bool = True,
        preset: Version | None = None,
        records_dir: str | None = None,
        draws: int = DRAWS,
        name: str | None = None,
    ) -> None:
        check_callback_settings(
            attacks or {}, epsilons, every_n_epochs, num_samples, batch_size, tolerance, seed, num_images
        )
        check_int("draws", draws, 1)
        if name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"name must be letters, digits, '_', '.' or '-' (one key level), got {name!r}.")
        cascade = preset is not None if worst_case_only is None else worst_case_only
        attacks = with_preset(attacks, preset, epsilons, norm)
        self.plan = make_plan(attacks, epsilons, norm, add_unbounded=sanity_checks, worst_case_only=cascade)
        self.subset = EvaluationSubset(num_samples)
        self.every_n_epochs = every_n_epochs
        self.batch_size = batch_size
        self.sanity_checks = sanity_checks
        self.tolerance = tolerance
        self.seed = seed
        self.num_images = num_images if log_images else 0
        self.log_figure = log_figure
        self.at_fit_end = at_fit_end
        grid = [e for e in self.plan.grid if not (self.plan.added_unbounded and e == UNBOUNDED_LINF)]
        self.hp_metric_eps = max(grid, default=None) if hp_metric_eps is None else hp_metric_eps
        self.print_table = print_table
        self.records_dir = records_dir
        self.draws = draws
        self.name = name
        self.summary: Summary = {}
        """The numbers of the last evaluation (also flags in :attr:`flags`)."""
        self.flags: list[SanityFlag] = []
        self._active = False
        self._layout_written = False

    # ---------------------------------------------------------------------------------------------- hooks
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        warn_if_never_due(trainer, type(self).__name__, self.every_n_epochs, self.at_fit_end)

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
        return {False: BlockEvaluator(pl_module, self.plan, seed=self.seed, draws=self.votes(pl_module))}

    def votes(self, pl_module: L.LightningModule) -> int | None:
        """Draws judged per prediction: :attr:`draws` for a randomised defense, ``None`` otherwise."""
        return self.draws if is_randomized(pl_module) else None

    def _start(self, trainer: L.Trainer, loaders: Any) -> None:
        self._active = evaluation_due(trainer, self.every_n_epochs, self.at_fit_end)
        if self._active:
            loader = loaders[0] if isinstance(loaders, (list, tuple)) else loaders
            self.subset.reset(trainer.global_rank, trainer.world_size, loader)

    def _evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        start = time.perf_counter()
        with torch.inference_mode(False), trainer.precision_plugin.forward_context():
            x, y = self.subset.gather()
            evaluators = self.evaluators(pl_module)
            accumulators = {t: SummaryAccumulator(self.plan, t, device=x.device) for t in evaluators}
            examples: dict[str, Tensor] = {}
            records = PointRecords.blank(tuple(p.name for p in self.plan.attacks), len(x), x.device)
            blocks = range(trainer.global_rank, -(-len(x) // self.batch_size), trainer.world_size)
            share = sum(len(y[b * self.batch_size : (b + 1) * self.batch_size]) for b in blocks)
            with AttackProgress(
                trainer, f"{self.log_group.replace('_', ' ')} ({self.key_base(stage)})", share
            ) as progress:
                # A rank without a block of its own evaluates an empty one, so that its metrics hold updates.
                for block in blocks or [len(x) // self.batch_size + 1]:
                    xb, yb = (t[block * self.batch_size : (block + 1) * self.batch_size] for t in (x, y))
                    for transfer, evaluator in evaluators.items():
                        evaluator.keep_examples = self.num_images if block == 0 else 0
                        evaluator.on_attack = progress.attack
                        results = evaluator(xb, yb, block)
                        accumulators[transfer].update(results)
                        if transfer == (self.accuracy_kind == "transfer_acc"):
                            records.put(block * self.batch_size, results.records)
                            examples = evaluator.examples if block == 0 else examples
                    progress.advance(len(yb))
            self.summary = merge_summaries(acc.compute() for acc in accumulators.values())
            figure = self._examples_figure(pl_module, x[: self.num_images], y[: self.num_images], examples)
        if self.records_dir is not None:
            self._save_records(trainer, stage, records)
        self.flags = run_sanity_checks(self.summary, self.plan, self.tolerance) if self.sanity_checks else []
        seconds = time.perf_counter() - start
        self._log(trainer, pl_module, stage, seconds, len(x), figure)

    def _examples_figure(
        self, pl_module: L.LightningModule, clean: Tensor, labels: Tensor, examples: dict[str, Tensor]
    ) -> Figure | None:
        """The clean images and each attack's examples with the model's predictions (``None``: no images)."""
        if not (self.num_images and examples and len(clean)):
            return None
        columns = {CLEAN: clean, **{self._column_name(name): images for name, images in examples.items()}}
        with torch.no_grad():
            predictions = {name: pl_module(images).argmax(dim=-1) for name, images in columns.items()}
        captions = {}
        for name, images in examples.items():
            norm = self.plan[name].norm or self.plan.norm
            sizes = flat_norm(images.float() - clean.float(), norm)
            captions[self._column_name(name)] = [
                f"|d|{NORM_SUBSCRIPTS.get(norm, norm)}={v:.3g}" for v in sizes
            ]
        return examples_figure(columns, labels, predictions, captions)

    def _column_name(self, attack: str) -> str:
        planned = self.plan[attack]
        if planned.kind == "minimum_norm":
            return f"{attack} (unbounded)"
        bounded = [e for e in planned.epsilons if e is not None]
        return f"{attack} eps<={format_eps(max(bounded))}" if bounded else attack

    def key_base(self, stage: str) -> str:
        """The first levels of every logged key: ``{stage}``, or ``{stage}/{name}`` for a named evaluation."""
        return stage if self.name is None else f"{stage}/{self.name}"

    def _log(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        stage: str,
        seconds: float,
        num_points: int,
        examples: Figure | None,
    ) -> None:
        base = self.key_base(stage)
        values = {f"{base}/{self.log_group}/seconds": seconds}
        for column, value in self.summary.items():
            if MEASURES[column.kind].grouped:
                values[f"{base}/{self.log_group}/{column.name}"] = value
            elif column.kind in self.logged_kinds:
                values[f"{base}/{column.name}"] = value
        if self.sanity_checks:
            values[f"{base}/{self.log_group}/sanity_flags"] = float(len(self.flags))
        # Every rank holds the same synchronised values (the time differs): "max" keeps them exact.
        pl_module.log_dict(values, sync_dist=True, reduce_fx="max", batch_size=1)
        if trainer.is_global_zero:
            warn_flags(self.flags)
        if self.flags:
            log_text(trainer, f"{base}/{self.log_group}/sanity", [str(f) for f in self.flags])
        title = f"{base.replace('/', ' ')} {self.accuracy_kind.replace('_', ' ')}, {evaluated_model(trainer)}"
        if self.log_figure:
            figure = accuracy_figure(self.summary, self.accuracy_kind, self.plan.norm, title)
            log_figure(trainer, f"{base}/{self.log_group}/accuracy_vs_eps", figure)
        if examples is not None:
            log_figure(trainer, f"{base}/{self.log_group}/examples", examples)
        if stage == "val" and not self._layout_written:  # test logs one point: no chart over epochs
            log_custom_scalars(trainer, self._layout(base))
            self._layout_written = True
        fitting = trainer.state.fn == TrainerFn.FITTING
        worst = self.summary.get(Column(self.accuracy_kind, WORST, self.hp_metric_eps))
        if fitting and worst is not None and final_validation(trainer):
            log_hp_metric(trainer, worst)
        if self.print_table:
            clean = self.summary[Column("clean_acc")]
            heading = (
                f"{title}: {num_points} points, clean accuracy {clean:.2%}, {self.plan.norm}, {seconds:.1f} s"
            )
            console_print(trainer, "\n".join([heading, *accuracy_table(self.summary)]))

    def _layout(self, base: str) -> dict[str, dict[str, list[str]]]:
        """Custom Scalars charts: each epsilon's accuracies, and the worst case at every epsilon (keys under
        ``base``, see :meth:`key_base`)."""
        accuracies = [c for c in self.summary if c.kind == self.accuracy_kind and c.eps is not None]
        clean = f"{base}/{self.log_group}/clean_acc"
        by_eps: dict[str, list[str]] = {}
        for column in sorted(accuracies, key=lambda c: c.eps):
            by_eps.setdefault(f"eps={format_eps(column.eps)}", [clean]).append(f"{base}/{column.name}")
        worst = [f"{base}/{c.name}" for c in sorted(accuracies, key=lambda c: c.eps) if c.attack == WORST]
        charts = {"worst case at every eps": [clean, *worst]} if worst else {}
        return {f"{base.replace('/', ' ')} {self.accuracy_kind.replace('_', ' ')}": {**charts, **by_eps}}

    def _save_records(self, trainer: L.Trainer, stage: str, records: PointRecords) -> None:
        """Sums the ranks' records (each point is filled by one rank) and writes them from rank 0."""
        records = records.reduced(lambda t: trainer.strategy.reduce(t, reduce_op="sum"))
        if trainer.is_global_zero:
            file = f"{self.key_base(stage).replace('/', '_')}_epoch={trainer.current_epoch}.csv"
            records.save(Path(self.records_dir) / file)


def evaluated_model(trainer: L.Trainer) -> str:
    """Which model an evaluation sees: the epoch and step while fitting, else the checkpoint file (outside
    ``fit`` Lightning does not restore the step, so it is left out)."""
    if trainer.state.fn == TrainerFn.FITTING:
        return f"epoch {trainer.current_epoch} (step {trainer.global_step})"
    return Path(trainer.ckpt_path).name if trainer.ckpt_path else "the model as given"
