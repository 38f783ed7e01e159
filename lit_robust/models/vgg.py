"""`VGG16`: the usual CIFAR VGG-16 built from torchvision's VGG-16-BN feature layers."""

from __future__ import annotations

from torch import Tensor, nn
from torchvision.models.vgg import cfgs, make_layers

from lit_robust.models.layers import check_input_size


class VGG16(nn.Module):
    """torchvision's ``vgg16_bn`` convolutions, a global average pool to 1x1, then ``Linear(512, classes)``.

    This is the usual CIFAR VGG-16 (14.7M parameters for 10 classes) rather than the ImageNet head with two
    4096-wide layers. The first convolution takes ``in_channels``, and the max-pools use ``ceil_mode=True``,
    which changes nothing for sizes divisible by 32 and lets 28x28 images pass all five pools (28, 14, 7,
    4, 2, 1) instead of failing at the last one. Weights are initialised as in torchvision's ``VGG``.

    Args:
        in_channels: channels of the input images.
        num_classes: number of output logits.
        input_size: height and width of the square input images (any positive size works).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, input_size: int = 32) -> None:
        super().__init__()
        check_input_size(input_size, type(self).__name__)
        self.features = make_layers(cfgs["D"], batch_norm=True)
        self.features[0] = nn.Conv2d(in_channels, 64, kernel_size=3, padding=1)
        for layer in self.features:
            if isinstance(layer, nn.MaxPool2d):
                layer.ceil_mode = True
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(512, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))
