"""How the ``lit-robust`` CLI passes the datamodule's shape to the model and to any backbone.

The datamodule's ``num_classes``, ``mean`` and ``std`` go to the defense, and its ``num_classes``,
``in_channels`` and ``input_size`` to the backbone, as jsonargparse instantiation links. jsonargparse skips
a link whose target the backbone's signature lacks, so these are linked only into the arguments the backbone
has: lit_robust's backbones take all three, ``torchvision.models.resnet18`` only ``num_classes`` (through its
``**kwargs``), a module of your own what its ``__init__`` names. Two things make that work for every
backbone, and one makes its failure clear:

- :class:`LinkingArgumentParser` lets a factory function (``torchvision.models.resnet18``) be a link target's
  parent, which jsonargparse 4.53 refuses with an internal error;
- :func:`accepted_links` keeps the skipped links' values out of the defense's hyper-parameters, where
  Lightning records every applied link, so that ``load_from_checkpoint`` rebuilds the backbone;
- :func:`~lit_robust.models.check_backbone_fits` runs the built backbone once on blank images of the data's
  shape, so a 3-channel stem on 1-channel data or a head of the wrong size is named before training.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def accepted_links(links: Mapping[str, Any], backbone_config: Any) -> dict[str, Any]:
    """The instantiation links of ``links`` (full keys: values) whose targets the backbone takes.

    Args:
        links: the links jsonargparse applied, by target key (``model.init_args.backbone.init_args.X``).
        backbone_config: the parsed backbone (``class_path``/``init_args`` namespace), whose ``init_args``
            hold exactly the arguments the backbone takes; ``None`` keeps every link.
    """
    if backbone_config is None:
        return dict(links)
    accepted = backbone_config.get("init_args") or {}
    prefix = f"{BACKBONE_KEY}.init_args."
    return {
        key: value
        for key, value in links.items()
        if not (
            key.startswith(prefix)
            and key[len(prefix) :] in BACKBONE_LINKS
            and key[len(prefix) :] not in accepted
        )
    }
