"""`check_backbone_fits`: a clear error when a backbone cannot take the data's images or classes."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def check_backbone_fits(backbone: nn.Module, in_channels: int, input_size: int, num_classes: int) -> None:
    """Runs ``backbone`` on two blank images of the data's shape and checks that it returns the class logits.

    The backbone runs in eval mode without gradients (BatchNorm statistics untouched) on the device of its
    parameters, and its training mode and the CPU random state (a layer-sampled ensemble draws a path) are
    restored, so a seeded run draws the same numbers with or without the check.

    Raises:
        ValueError: the forward pass fails (naming the first convolution when its input channels differ) or
            returns another shape than ``(2, num_classes)``; the message says what to set instead.
    """
    parameter = next(backbone.parameters(), None)
    device = None if parameter is None else parameter.device
    x = torch.zeros(2, in_channels, input_size, input_size, device=device)
    name = type(backbone).__name__
    adapters = "TorchvisionBackbone or TimmBackbone, which build stem and head for the data"
    training = backbone.training
    backbone.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            logits = backbone.forward(x)  # not __call__: a compiled backbone would compile here
    except Exception as error:  # any failure of the probe means the backbone cannot take the images
        failure = str(error).splitlines()[0]
    else:
        failure = None
    finally:
        backbone.train(training)
    # Raised outside the ``except`` so that the CLI's message is this one, not the chained RuntimeError.
    if failure is not None:
        stem = next((m for m in backbone.modules() if isinstance(m, nn.Conv2d)), None)
        if stem is not None and stem.in_channels != in_channels:
            raise ValueError(
                f"The backbone {name} takes {stem.in_channels}-channel images (its first convolution) but "
                f"the data has {in_channels}-channel images: set the backbone's in_channels argument if it "
                f"has one, or use {adapters}."
            )
        raise ValueError(
            f"The backbone {name} cannot take the data's {in_channels}x{input_size}x{input_size} images "
            f"({failure}): set its input-size argument (input_size, image_size, img_size) or use {adapters}."
        )
    if not isinstance(logits, Tensor):
        raise ValueError(f"The backbone {name} returns a {type(logits).__name__}, not a tensor of logits.")
    if tuple(logits.shape) != (2, num_classes):
        raise ValueError(
            f"The backbone {name} returns outputs of shape {tuple(logits.shape[1:])} per image, but the data "
            f"has {num_classes} classes: set the backbone's num_classes argument (or the size of its head), "
            f"or use {adapters}."
        )
