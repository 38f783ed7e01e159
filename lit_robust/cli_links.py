"""How the ``lit-robust`` CLI passes the datamodule's shape to the model and to any backbone.

The datamodule's ``num_classes``, ``mean`` and ``std`` go to the defense, and its ``num_classes``,
``in_channels`` and ``input_size`` to the backbone, as jsonargparse instantiation links. jsonargparse skips
a link whose target the backbone's signature lacks, so these are linked only into the arguments the backbone
has: lit_robust's backbones take all three, ``torchvision.models.resnet18`` only ``num_classes`` (through its
``**kwargs``), a module of your own what its ``__init__`` names. Two things make that work for every
backbone, and one makes its failure clear:

- :class:`LinkingArgumentParser` lets a factory function (``torchvision.models.resnet18``) be a link target's
  parent, which jsonargparse 4.53 refuses with an internal error;
- :func:`forget_skipped_links` removes the skipped links' values from the defense's hyper-parameters, where
  Lightning records every link, so that ``load_from_checkpoint`` rebuilds the backbone;
- :func:`~lit_robust.models.check_backbone_fits` runs the built backbone once on blank images of the data's
  shape, so a 3-channel stem on 1-channel data or a head of the wrong size is named before training.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from lightning.pytorch.cli import LightningArgumentParser

#: Datamodule attributes linked into the defense's arguments of the same name.
MODEL_LINKS = ("num_classes", "mean", "std")
#: Datamodule attributes linked into the backbone's arguments of the same name, where it has them.
BACKBONE_LINKS = ("num_classes", "in_channels", "input_size")
BACKBONE_KEY = "model.init_args.backbone"


def link_data_to_model(parser: LightningArgumentParser) -> None:
    """Adds the instantiation links of :data:`MODEL_LINKS` and :data:`BACKBONE_LINKS` to ``parser``."""
    for name in MODEL_LINKS:
        parser.link_arguments(f"data.{name}", f"model.init_args.{name}", apply_on="instantiate")
    for name in BACKBONE_LINKS:
        parser.link_arguments(f"data.{name}", f"{BACKBONE_KEY}.init_args.{name}", apply_on="instantiate")


class LinkingArgumentParser(LightningArgumentParser):
    """Lightning's parser, which also accepts a factory function as the parent of a link target.

    jsonargparse builds the parser of a ``class_path`` that is a function with ``add_function_arguments``
    and hands it the names of the link targets (``linked_targets``), which only ``add_class_arguments``
    takes. Their only use there is to make those arguments optional, which jsonargparse does again right
    after (``clear_required``), so they are dropped here.
    """

    def add_function_arguments(
        self, *args: Any, linked_targets: set[str] | None = None, **kwargs: Any
    ) -> list[str]:
        return super().add_function_arguments(*args, **kwargs)


def forget_skipped_links(hparams: MutableMapping[str, Any], backbone_config: Any) -> None:
    """Removes from ``hparams["backbone"]`` the linked values that the backbone's signature does not take.

    Args:
        hparams: the defense's hyper-parameters, with the backbone as a ``class_path``/``init_args`` dict.
        backbone_config: the parsed backbone (``class_path``/``init_args`` namespace), whose ``init_args``
            hold exactly the arguments the backbone takes.
    """
    backbone = hparams.get("backbone")
    if backbone_config is None or not isinstance(backbone, MutableMapping):
        return
    if not isinstance(backbone.get("init_args"), MutableMapping):
        return
    accepted = backbone_config.get("init_args") or {}
    for name in BACKBONE_LINKS:
        if name not in accepted:
            backbone["init_args"].pop(name, None)
