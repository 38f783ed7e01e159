"""The ``lit-robust`` command: a LightningCLI over every defense of the package and its ``ImageDataModule``.

The ``data:`` section holds the datamodule's arguments: ``source: {class_path: MNIST, ...}``, ``batch_size``,
``steps: [...]`` (see :class:`~lit_robust.data.ImageDataModule`). Short class names resolve in configs
(``class_path: RobustClassifier``, ``class_path: LeNet5``) because the package's modules are imported here.
The datamodule's ``num_classes``, ``in_channels``, ``input_size``, ``mean`` and ``std`` are linked into the
model and into the arguments its backbone has, so a config names each of them at most once (see
:mod:`lit_robust.cli_links`).
"""

from __future__ import annotations

import os
import sys
import textwrap
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.cli import LightningArgumentParser
from lightning.pytorch.utilities.exceptions import SIGTERMException

# Imported so that their classes' short names resolve in configs.
import lit_robust.attacks
import lit_robust.callbacks
import lit_robust.losses
import lit_robust.models  # noqa: F401
from lit_robust.callbacks.preemption import SIGTERM_EXIT_STATUS, PreemptionCheckpoint
from lit_robust.checkpoint_run import log_into_checkpoint_run
from lit_robust.cli_links import LinkingArgumentParser, accepted_links, link_data_to_model
from lit_robust.data import ImageDataModule
from lit_robust.defenses import RobustClassifier
from lit_robust.lightning_internals import CommandLineOverCheckpoint, hyperparameter_instantiators
from lit_robust.models import check_backbone_fits
from lit_robust.upstream_warnings import ignore_lightning_leafspec_warning
from lit_robust.validation import check_checkpoint_file

DEBUG_VARIABLE = "LIT_ROBUST_DEBUG"
DESCRIPTION = (
    "lit-robust: train and evaluate adversarially robust image classifiers (lit_robust defenses, data "
    "sources and attack-evaluation callbacks) from YAML configs. Example: lit-robust fit --config "
    "configs/quickstart.yaml; then lit-robust test --config configs/quickstart.yaml --ckpt_path "
    "lightning_logs/quickstart/version_0/checkpoints/last.ckpt."
)


class RobustArgumentParser(LinkingArgumentParser):
    """The CLI's parser: factory functions as backbones (``cli_links``), and Lightning's ``skip_none``
    keyword passed to jsonargparse under its new name (``skip_unset``)."""

    def dump(self, *args: Any, skip_none: bool | None = None, **kwargs: Any) -> str:
        return super().dump(*args, **_skip_unset(skip_none, kwargs))

    def save(self, *args: Any, skip_none: bool | None = None, **kwargs: Any) -> None:
        super().save(*args, **_skip_unset(skip_none, kwargs))


def _skip_unset(skip_none: bool | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    return kwargs if skip_none is None else {"skip_unset": skip_none, **kwargs}


class RobustCLI(CommandLineOverCheckpoint):
    """LightningCLI with the datamodule's metadata linked into the model.

    The model and the datamodule get their YAML config as hyper-parameters (``load_from_checkpoint`` rebuilds
    them from it), through instantiators passed to the parser's ``instantiate`` (Lightning's own way, its
    ``load_from_checkpoint_support``, registers them with a deprecated jsonargparse API, so it is off).
    Optimisers are the defenses' own (``auto_configure_optimizers`` is off). The model of ``--ckpt_path`` is
    the default that config files and ``--model...`` arguments override (:class:`~lit_robust.
    lightning_internals.CommandLineOverCheckpoint`): ``test --ckpt_path X --model.init_args.test_samples=5``
    tests X's model with 5 samples.
    """

    def __init__(self, *args: Any, parser_class: type = RobustArgumentParser, **kwargs: Any) -> None:
        """LightningCLI's arguments, with :class:`RobustArgumentParser` as the parser."""
        kwargs.update(load_from_checkpoint_support=False, auto_configure_optimizers=False)
        super().__init__(*args, parser_class=parser_class, **kwargs)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        link_data_to_model(parser)

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        kwargs.setdefault("description", DESCRIPTION)  # the main parser's; subcommands bring their own
        return super().init_parser(**kwargs)

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        # ``run_cli(args)`` is documented to replace ``sys.argv[1:]`` by ``args`` (a script with arguments of
        # its own calls it so): Lightning's warning about getting both does not apply.
        if isinstance(args, (dict, Namespace)):
            self.config = parser.parse_object(args)
        else:
            self.config = parser.parse_args(args)
        # The hyper-parameters of --ckpt_path are read right after parsing: check the file first.
        if self.config.get("subcommand"):
            check_checkpoint_file(self.config[self.config.subcommand].get("ckpt_path"))

    def before_instantiate_classes(self) -> None:
        # ``validate``/``test``/``predict`` of a checkpoint log beside the run that wrote it (a ``test/``
        # folder in it, for example), with their config.yaml there.
        if self.subcommand not in (None, "fit"):
            config = self.config[self.subcommand]
            log_into_checkpoint_run(config.trainer, config.get("ckpt_path"), sub_dir=self.subcommand)

    def instantiate_classes(self) -> None:
        """Builds the datamodule, the model (each with its config as hyper-parameters) and the trainer."""
        config = self.config.get(str(self.subcommand), self.config)
        backbone_config = config.get("model.init_args.backbone")
        instantiators = hyperparameter_instantiators(
            self,
            {
                "model": (self.model_class or LightningModule, self.subclass_mode_model),
                "data": (self.datamodule_class or LightningDataModule, self.subclass_mode_data),
            },
            keep_links=lambda links: accepted_links(links, backbone_config),
        )
        self.config_init = self.parser.instantiate(self.config, instantiators=instantiators)
        built = self.config_init.get(str(self.subcommand), self.config_init)
        self.datamodule = built.get("data")
        self.model = built.get("model")
        self.trainer = self.instantiate_trainer()

    def after_instantiate_classes(self) -> None:
        """Checks that the backbone fits the data."""
        data = self.datamodule
        if data is not None:
            check_backbone_fits(self.model.backbone, data.in_channels, data.input_size, data.num_classes)


def run_cli(args: list[str] | None = None) -> RobustCLI:
    """Runs ``lit-robust ARGS`` in this process; returns the CLI (its ``trainer``, ``model``, ``datamodule``).

    ``args`` replaces ``sys.argv[1:]``. Configuration mistakes that only show when objects are built (an
    impossible value, a missing dataset, a ``--ckpt_path`` that is not a checkpoint) end with a short
    message naming the problem and ``SystemExit(2)`` instead of a traceback; set ``LIT_ROBUST_DEBUG=1`` to
    see it. A fit stopped by SIGTERM saves a resumable checkpoint (:class:`~lit_robust.callbacks.
    PreemptionCheckpoint`, added to every run) and ends with ``SystemExit(143)``.
    """
    ignore_lightning_leafspec_warning()
    try:
        return RobustCLI(
            RobustClassifier,
            ImageDataModule,
            subclass_mode_model=True,
            subclass_mode_data=False,
            args=args,
            save_config_kwargs={"overwrite": True},
            trainer_defaults={"callbacks": [PreemptionCheckpoint()]},
        )
    except SIGTERMException:
        raise SystemExit(SIGTERM_EXIT_STATUS) from None
    except (ValueError, FileNotFoundError) as error:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        message = textwrap.fill(f"lit-robust: error: {_root_cause(error)}", width=100)
        print(f"{message}\n(set {DEBUG_VARIABLE}=1 to see the traceback)", file=sys.stderr)
        raise SystemExit(2) from None


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``lit-robust`` console script and ``python -m lit_robust``.

    Returns nothing, so the process exits with status 0 after a successful run; errors exit non-zero. Use
    :func:`run_cli` to get the CLI object back in Python.
    """
    run_cli(args)


def _root_cause(error: BaseException) -> BaseException:
    """The innermost exception behind ``error`` (jsonargparse wraps a constructor's error in Union text); an
    error raised ``from None`` is its own root cause."""
    context = None if error.__suppress_context__ else error.__context__
    while (inner := error.__cause__ or context) is not None:
        error = inner
        context = None if error.__suppress_context__ else error.__context__
    return error
