"""Pins the private Lightning API that lit_robust/lightning_internals.py relies on (``_InstantiatorFn``,
``_given_hyperparameters``)."""

from __future__ import annotations

import inspect

import lightning as L
import torch
from lightning.pytorch.cli import LightningCLI, _InstantiatorFn
from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters_context

from lit_robust.defenses import RobustClassifier
from lit_robust.lightning_internals import given_hyperparameters, hyperparameter_instantiators


class Recorded(L.LightningModule):
    def __init__(self, width: int = 1, backbone: dict | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()


def test_the_instantiator_takes_the_cli_and_its_key_and_is_called_with_the_applied_links():
    assert list(inspect.signature(_InstantiatorFn.__init__).parameters) == ["self", "cli", "key"]
    call = inspect.signature(_InstantiatorFn.__call__).parameters
    assert (
        "applied_instantiation_links" in call
        and call["applied_instantiation_links"].kind.name == "KEYWORD_ONLY"
    )


def test_the_built_class_gets_the_dumped_config_with_the_kept_links_as_hyperparameters():
    """Lightning reads ``cli.config_dump[key]`` (its own dump is skipped when it exists), stores the class
    path as ``_class_path`` and the init args flat, and writes each applied link under its key."""
    dump = {"model": {"class_path": "Recorded", "init_args": {"width": 3, "backbone": {"init_args": {}}}}}
    cli = object.__new__(LightningCLI)  # a CLI that has parsed nothing: its _dump_config must keep this dump
    cli.config_dump = dump
    links = {"model.init_args.backbone.init_args.num_classes": 10, "model.init_args.backbone.init_args.x": 1}
    keep = lambda applied: {k: v for k, v in applied.items() if not k.endswith(".x")}  # noqa: E731
    ((instantiator, class_type, subclasses),) = hyperparameter_instantiators(
        cli, {"model": (L.LightningModule, True)}, keep
    )
    assert (class_type, subclasses) == (L.LightningModule, True)
    model = instantiator(Recorded, width=3, applied_instantiation_links=links)
    assert model.hparams["_class_path"] == "Recorded"
    assert model.hparams["width"] == 3
    assert model.hparams["backbone"] == {"init_args": {"num_classes": 10}}
    assert model.hparams["_instantiator"] == "lightning.pytorch.cli.instantiate_module"


def test_given_hyperparameters_is_the_cli_config_inside_its_context_only():
    assert given_hyperparameters() is None
    with _given_hyperparameters_context(hparams={"num_classes": 3}, instantiator="x"):
        assert given_hyperparameters()["num_classes"] == 3
    assert given_hyperparameters() is None


def test_cli_built_modules_keep_the_backbone_config_and_python_built_ones_leave_it_out():
    args = ["--model.backbone=lit_robust.models.MLP", "--trainer.logger=false"]
    cli = LightningCLI(RobustClassifier, run=False, args=args)
    assert cli.model.hparams["backbone"]["class_path"] == "lit_robust.models.MLP"
    python_built = RobustClassifier(torch.nn.Flatten(), num_classes=2)
    assert "backbone" not in python_built.hparams and "optimizer" not in python_built.hparams


def test_lightning_reads_the_checkpoint_after_parsing_through_the_hooks_we_replace_and_call():
    """``CommandLineOverCheckpoint`` replaces ``_parse_ckpt_path``, which must run right after
    ``parse_arguments``, and reaches a subcommand's parser through ``_parser(subcommand)``."""
    source = inspect.getsource(LightningCLI.__init__)
    assert source.index("self.parse_arguments(") < source.index("self._parse_ckpt_path()")
    assert source.index("self._parse_ckpt_path()") < source.index("self.instantiate_classes()")
    assert list(inspect.signature(LightningCLI._parser).parameters) == ["self", "subcommand"]
