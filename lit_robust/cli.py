"""The ``lit-robust`` command: a LightningCLI over every defense and datamodule of the package.

Short class names resolve in configs (``class_path: RobustClassifier``, ``class_path: LeNet5``) because the
package's modules are imported here. The datamodule's ``num_classes``, ``in_channels``, ``input_size``,
``mean`` and ``std`` are linked into the model and into the arguments its backbone has, so a config names each
of them at most once (see :mod:`lit_robust.cli_links`).
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from typing import Any

import yaml
from jsonargparse import Namespace
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, _get_module_type, _InstantiatorFn
from lightning.pytorch.utilities.exceptions import SIGTERMException

# Imported so that their classes' short names resolve in configs.
import lit_robust.attacks
import lit_robust.callbacks
import lit_robust.losses
import lit_robust.models  # noqa: F401
from lit_robust.callbacks.preemption import SIGTERM_EXIT_STATUS, PreemptionCheckpoint
from lit_robust.checkpoint_run import log_into_checkpoint_run
from lit_robust.cli_links import LinkingArgumentParser, forget_skipped_links, link_data_to_model
from lit_robust.data import InMemoryImageDataModule
from lit_robust.defenses import RobustClassifier
from lit_robust.models import check_backbone_fits
from lit_robust.upstream_warnings import ignore_lightning_leafspec_warning
from lit_robust.validation import check_checkpoint_file

DEBUG_VARIABLE = "LIT_ROBUST_DEBUG"
DESCRIPTION = (
    "lit-robust: train and evaluate adversarially robust image classifiers (lit_robust defenses, datamodules "
    "and attack-evaluation callbacks) from YAML configs. Example: lit-robust fit --config "
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


class RobustCLI(LightningCLI):
    """LightningCLI with the datamodule's metadata linked into the model."""

    def __init__(self, *args: Any, parser_class: type = RobustArgumentParser, **kwargs: Any) -> None:
        """LightningCLI's arguments, with :class:`RobustArgumentParser` as the parser."""
        super().__init__(*args, parser_class=parser_class, **kwargs)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        link_data_to_model(parser)

    def after_instantiate_classes(self) -> None:
        """Drops the links the backbone skipped from the hyper-parameters; checks it fits the data."""
        backbone_config = self._get(self.config, "model").get("init_args.backbone")
        for hparams in (self.model.hparams, self.model._hparams_initial):
            forget_skipped_links(hparams, backbone_config)
        data = self.datamodule
        if data is not None:
            check_backbone_fits(self.model.backbone, data.in_channels, data.input_size, data.num_classes)

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

    def _add_instantiators(self) -> None:
        """Nothing: jsonargparse deprecated parser-wide instantiators; :meth:`instantiate_classes` passes them
        to the ``instantiate`` call instead."""

    def instantiate_classes(self) -> None:
        # Lightning hands the run's ``model``/``data`` config, as hyper-parameters, to every LightningModule
        # or LightningDataModule the parser builds, so a datamodule nested in a wrapper (``base:``) would get
        # the wrapper's. Only the top-level class gets them here; nested ones save their own arguments.
        instantiators = [
            (_TopLevelInstantiator(cli=self, key=key), _get_module_type(class_type), subclasses)
            for key, class_type, subclasses in (
                ("model", self._model_class, self.subclass_mode_model),
                ("data", self._datamodule_class, self.subclass_mode_data),
            )
        ]
        self.config_init = self.parser.instantiate(self.config, instantiators=instantiators)
        self.datamodule = self._get(self.config_init, "data")
        self.model = self._get(self.config_init, "model")
        self._add_configure_optimizers_method_to_model(self.subcommand)
        self.trainer = self.instantiate_trainer()

    def before_instantiate_classes(self) -> None:
        # ``validate``/``test``/``predict`` of a checkpoint log beside the run that wrote it (a ``test/``
        # folder in it, for example), with their config.yaml there.
        if self.subcommand not in (None, "fit"):
            config = self.config[self.subcommand]
            log_into_checkpoint_run(config.trainer, config.get("ckpt_path"), sub_dir=self.subcommand)

    def _parse_ckpt_path(self) -> None:
        # Lightning reads the hyper-parameters of --ckpt_path right after parsing: check the file first.
        if self.config.get("subcommand"):
            check_checkpoint_file(self.config[self.config.subcommand].get("ckpt_path"))
        super()._parse_ckpt_path()

    def _dump_config(self) -> None:
        # Lightning writes instantiation-linked values into this dump to save them as hyper-parameters, and
        # asserts that every parent key exists. A nested class whose arguments are all link targets (a
        # backbone taking only in_channels, num_classes and input_size) is dumped without ``init_args``.
        if hasattr(self, "config_dump"):
            return
        dump = yaml.safe_load(
            self.parser.dump(self.config, skip_link_targets=False, skip_unset=False, format="yaml")
        )
        self.config_dump = dump[self.config.subcommand] if "subcommand" in self.config else dump
        _add_empty_init_args(self.config_dump)


class _TopLevelInstantiator(_InstantiatorFn):
    """Lightning's instantiator, applied only to the class named at the top of ``model`` or ``data``."""

    def __call__(self, class_type: type, *args: Any, applied_instantiation_links: dict, **kwargs: Any) -> Any:
        self.cli._dump_config()
        config = self.cli.config_dump.get(self.key)
        if not isinstance(config, dict) or _import(config.get("class_path", "")) is not class_type:
            return class_type(*args, **kwargs)
        return super().__call__(
            class_type, *args, applied_instantiation_links=applied_instantiation_links, **kwargs
        )


def _import(class_path: str) -> Any:
    module, _, name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None


def _add_empty_init_args(config: Any) -> None:
    """Gives every ``class_path`` dictionary nested in ``config`` an ``init_args`` entry."""
    if isinstance(config, dict):
        if "class_path" in config:
            config.setdefault("init_args", {})
        for value in config.values():
            _add_empty_init_args(value)
    elif isinstance(config, list):
        for value in config:
            _add_empty_init_args(value)


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
            InMemoryImageDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=args,
            save_config_kwargs={"overwrite": True},
            trainer_defaults={"callbacks": [PreemptionCheckpoint()]},
            auto_configure_optimizers=False,
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
