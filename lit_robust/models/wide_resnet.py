"""`WideResNet`: WRN-depth-k (Zagoruyko & Komodakis 2016) with pre-activation basic blocks."""

from __future__ import annotations

from torch import Tensor, nn

from lit_robust.models.layers import check_input_size


class _PreActBlock(nn.Module):
    """BN, ReLU, conv 3x3 (stride), BN, ReLU, dropout, conv 3x3, plus a shortcut.

    The shortcut is the identity when shapes match, else a 1x1 convolution of the pre-activated input.
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, padding=1, bias=False)
        self.shortcut = (
            nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)
            if in_planes != out_planes or stride != 1
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        act = self.bn1(x).relu()
        out = self.conv2(self.dropout(self.bn2(self.conv1(act)).relu()))
        return out + (x if self.shortcut is None else self.shortcut(act))


class WideResNet(nn.Module):
    """WRN-``depth``-``widen_factor``: a 3x3 stem, three groups of ``(depth - 4) / 6`` pre-activation blocks
    of widths 16k, 32k, 64k (strides 1, 2, 2), BN, ReLU, global average pool, dense.

    The constant-perturbation paper's CIFAR-10 model is ``WideResNet(depth=28, widen_factor=10,
    dropout=0.1)`` (36.5M parameters). Convolutions use He initialisation (fan-out), as in the reference
    implementation.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images (any positive size works).
        depth: number of layers; ``(depth - 4)`` must be a positive multiple of 6 (10, 16, 22, 28, ...).
        widen_factor: width multiplier k.
        dropout: dropout probability between the two convolutions of every block.

    Raises:
        ValueError: if ``depth`` is not of the form 6n + 4 with n >= 1, or ``widen_factor`` < 1.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        input_size: int = 32,
        depth: int = 28,
        widen_factor: int = 10,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_input_size(input_size, type(self).__name__)
        if depth < 10 or (depth - 4) % 6 != 0:
            raise ValueError(f"WideResNet depth must be 6n + 4, n >= 1 (10, 16, 22, 28, ...), got {depth}.")
        if widen_factor < 1:
            raise ValueError(f"WideResNet widen_factor must be at least 1, got {widen_factor}.")
        blocks_per_group = (depth - 4) // 6
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)]
        for group, stride in enumerate((1, 2, 2)):
            for i in range(blocks_per_group):
                in_planes = widths[group] if i == 0 else widths[group + 1]
                layers.append(_PreActBlock(in_planes, widths[group + 1], stride if i == 0 else 1, dropout))
        layers += [nn.BatchNorm2d(widths[3]), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(widths[3], num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
