"""The private Lightning API lit_robust relies on, in one place; tests/test_lightning_internals.py pins it.

- ``lightning.pytorch.cli._InstantiatorFn`` is how LightningCLI gives a LightningModule or
  LightningDataModule its YAML config as hyper-parameters (so ``load_from_checkpoint`` rebuilds it from
  plain values); Lightning offers no public way to do it. Lightning registers it with jsonargparse's
  deprecated parser-wide ``add_instantiator``; lit_robust passes it to ``ArgumentParser.instantiate``
  instead (:func:`hyperparameter_instantiators`).
- ``LightningCLI._parse_ckpt_path`` (replaced) and ``LightningCLI._parser``: the hyper-parameters of
  ``--ckpt_path`` become defaults under the command line (:class:`CommandLineOverCheckpoint`).
- ``hparams_mixin._given_hyperparameters`` tells a module whether LightningCLI is building it with its
  config as hyper-parameters (:func:`given_hyperparameters`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml
from lightning.pytorch.cli import LightningCLI, _InstantiatorFn
from lightning.pytorch.core.mixins import hparams_mixin

LinkFilter = Callable[[dict[str, Any]], dict[str, Any]]
"""Takes the instantiation links jsonargparse applied (full keys: value) and returns those to record."""


class _ConfigAsHyperparameters(_InstantiatorFn):
    """Lightning's instantiator with a complete config dump and only the links ``keep_links`` keeps.

    Lightning writes each applied instantiation link into the dumped config (asserting that its parent key
    exists) and dumps a nested class whose arguments are all link targets (a backbone taking only
    ``in_channels``, ``num_classes`` and ``input_size``) without ``init_args``: the dump here gives every
    ``class_path`` an ``init_args``. Lightning skips its own dump when ``cli.config_dump`` exists.
    """

    def __init__(self, cli: LightningCLI, key: str, keep_links: LinkFilter) -> None:
        super().__init__(cli=cli, key=key)
        self.keep_links = keep_links

    def __call__(self, class_type: type, *args: Any, applied_instantiation_links: dict, **kwargs: Any) -> Any:
        if not hasattr(self.cli, "config_dump"):
            self.cli.config_dump = complete_config_dump(self.cli)
        links = self.keep_links(applied_instantiation_links)
        return super().__call__(class_type, *args, applied_instantiation_links=links, **kwargs)


def hyperparameter_instantiators(
    cli: LightningCLI, classes: dict[str, tuple[type, bool]], keep_links: LinkFilter
) -> list[tuple[Any, type, bool]]:
    """Instantiators for ``parser.instantiate(config, instantiators=...)`` that give the class built at each
    key its config as hyper-parameters, as LightningCLI's ``load_from_checkpoint_support`` does.

    Args:
        cli: the CLI whose config is instantiated.
        classes: for each top-level key (``"model"``, ``"data"``), its base class and whether subclasses of
            it are instantiated the same way.
        keep_links: filter of the applied instantiation links written into the hyper-parameters.
    """
    return [
        (_ConfigAsHyperparameters(cli, key, keep_links), class_type, subclasses)
        for key, (class_type, subclasses) in classes.items()
    ]


def complete_config_dump(cli: LightningCLI) -> dict[str, Any]:
    """The CLI's config (of its subcommand) as plain values, with every ``class_path`` given ``init_args``."""
    dump = yaml.safe_load(
        cli.parser.dump(cli.config, skip_link_targets=False, skip_unset=False, format="yaml")
    )
    dump = dump[cli.config.subcommand] if "subcommand" in cli.config else dump
    _add_empty_init_args(dump)
    return dump


def _add_empty_init_args(config: Any) -> None:
    if isinstance(config, dict):
        if "class_path" in config:
            config.setdefault("init_args", {})
        for value in config.values():
            _add_empty_init_args(value)
    elif isinstance(config, list):
        for value in config:
            _add_empty_init_args(value)


def given_hyperparameters() -> dict[str, Any] | None:
    """The config LightningCLI hands to the module it is instantiating (``None`` outside the CLI).

    LightningCLI instantiates the model inside ``hparams_mixin._given_hyperparameters_context``, and
    ``save_hyperparameters`` then stores that config (``class_path`` dictionaries of the injected modules
    and factories) instead of the constructor's live arguments. No public API tells a module whether it is
    being built that way, which decides whether its live arguments must be kept out of the hparams.
    """
    return hparams_mixin._given_hyperparameters.get()


class CommandLineOverCheckpoint(LightningCLI):
    """LightningCLI whose ``--ckpt_path`` hyper-parameters are defaults that the command line overrides.

    Lightning 2.6 parses the model's hyper-parameters stored in the checkpoint of ``--ckpt_path`` *over*
    the parsed command line (its private ``LightningCLI._parse_ckpt_path``, called after
    ``parse_arguments``), so a ``--model...`` argument or a config file given beside a checkpoint is
    silently replaced by the checkpoint's own model (Lightning-AI/pytorch-lightning#21455, open). Here
    ``_parse_ckpt_path`` makes them the subcommand parser's ``model`` defaults (through the private
    ``LightningCLI._parser``) and parses the command line again over them: the checkpoint's model unless
    the config files and arguments say otherwise, as for any other default.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """LightningCLI's arguments; ``args`` (the command line) is kept to be parsed again."""
        self.command_line = kwargs.get("args")
        super().__init__(*args, **kwargs)

    def _parse_ckpt_path(self) -> None:
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        model = checkpoint_model_config(self.config[subcommand].get("ckpt_path"))
        if model is None:
            return
        self._parser(subcommand).set_defaults(model=model)
        self.parse_arguments(self.parser, self.command_line)


def checkpoint_model_config(ckpt_path: str | None) -> dict[str, Any] | None:
    """The model config stored as hyper-parameters in a checkpoint (``class_path`` and ``init_args``), or
    ``None`` without a checkpoint file or without a class path in its hyper-parameters."""
    if not ckpt_path or not Path(ckpt_path).is_file():
        return None
    checkpoint = torch.load(ckpt_path, weights_only=True, map_location="cpu", mmap=True)
    hparams = dict(checkpoint.get("hyper_parameters", {}))
    hparams.pop("_instantiator", None)
    class_path = hparams.pop("_class_path", None)
    return None if class_path is None else {"class_path": class_path, "init_args": hparams}
