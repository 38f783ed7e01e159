"""`DefendedModel`: the pure-torch defended classifier, [0, 1] pixels to logits.

One module holds what every part of lit_robust means by "the model": an optional input transform in pixel
space (a test-time preprocessing step), ``Normalize`` and the backbone. Defenses
(:class:`~lit_robust.defenses.RobustClassifier` and its subclasses) wrap one for training, and the static
source models of ensemble adversarial training, transfer sources and evaluation use it without Lightning.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from lit_robust.models.normalize import Normalize


class DefendedModel(nn.Module):
    """``backbone(normalize(transform(x)))`` for images ``x`` in [0, 1]: every epsilon stays in pixel space.

    Parameter names are ``normalize.*``, ``backbone.*`` (and ``transform.*`` when a transform has state); a
    defense holds its defended model as ``model``, so its checkpoint keys are these under ``model.``
    (:func:`~lit_robust.models.load_defended_weights` loads them into a ``DefendedModel``).

    Args:
        backbone: the network mapping normalised images to logits.
        mean: per-channel mean of the normalisation (the datamodule's), or one value for every channel.
        std: per-channel standard deviation of the normalisation, or one value.
        transform: an input transform applied in pixel space before the normalisation (``None``: none).
    """

    def __init__(
        self,
        backbone: nn.Module,
        mean: float | Sequence[float] = 0.0,
        std: float | Sequence[float] = 1.0,
        transform: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.transform = transform
        self.normalize = Normalize(mean, std)
        self.backbone = backbone

    def forward(self, x: Tensor) -> Tensor:
        """Logits of images ``x`` in [0, 1]."""
        if self.transform is not None:
            x = self.transform(x)
        return self.network(x)

    def network(self, x: Tensor) -> Tensor:
        """Logits of images ``x`` in [0, 1] without the input transform: ``backbone(normalize(x))``."""
        return self.backbone(self.normalize(x))

    def freeze(self) -> DefendedModel:
        """Eval mode and no parameter gradients (a static source model: attacks take input gradients only)."""
        self.eval()
        self.requires_grad_(False)
        return self
