"""`ResNet18` and `ResNet50`: torchvision's ResNets with a stem for small images."""

from __future__ import annotations

from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from lit_robust.models.layers import check_input_size

#: Inputs at least this large keep torchvision's ImageNet stem (7x7 stride-2 convolution and max-pool).
IMAGENET_STEM_MIN_SIZE = 64


class _SmallImageResNet(ResNet):
    """torchvision's ``ResNet`` (random initialisation, never downloaded weights) with ``in_channels`` inputs.

    Below ``IMAGENET_STEM_MIN_SIZE`` pixels the stem is the usual CIFAR one: a 3x3 stride-1 convolution and
    no max-pool, so 32x32 images reach the last stage at 4x4. From ``IMAGENET_STEM_MIN_SIZE`` on,
    torchvision's 7x7 stride-2 convolution and max-pool are kept. The global average pool accepts any size.
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: list[int],
        in_channels: int,
        num_classes: int,
        input_size: int,
    ) -> None:
        check_input_size(input_size, type(self).__name__)
        super().__init__(block, layers, num_classes=num_classes)
        if input_size < IMAGENET_STEM_MIN_SIZE:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")


class ResNet18(_SmallImageResNet):
    """ResNet-18 (basic blocks, [2, 2, 2, 2]) for small images; see :class:`_SmallImageResNet` for the stem.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images; from 64 on, torchvision's ImageNet stem.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, input_size: int = 32) -> None:
        super().__init__(BasicBlock, [2, 2, 2, 2], in_channels, num_classes, input_size)


class ResNet50(_SmallImageResNet):
    """ResNet-50 (bottleneck blocks, [3, 4, 6, 3]) for small images; see :class:`_SmallImageResNet` for the
    stem.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images; from 64 on, torchvision's ImageNet stem.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, input_size: int = 32) -> None:
        super().__init__(Bottleneck, [3, 4, 6, 3], in_channels, num_classes, input_size)
