"""Pure ``nn.Module`` building blocks: the defended model (input transform, normalisation, backbone), the
normalisation layer, the backbones from the papers, adapters, and the loading of a defense's weights into a
defended model (``load_defended_weights``).

Every backbone takes ``in_channels``, ``num_classes`` and ``input_size`` first (all keyword-able, with
defaults), so the CLI can link them from the datamodule, and returns logits. ``TorchvisionBackbone`` and
``TimmBackbone`` build another library's architectures by name for the data's shape, and ``load_weights``
loads a local weights file into any module.
"""

from lit_robust.models.at2l_mnist import MnistModelA, MnistModelB, MnistModelC, MnistModelD
from lit_robust.models.basic_cnn import PRBasicCNN
from lit_robust.models.critic import Critic, GaussianNoise
from lit_robust.models.defended import DefendedModel
from lit_robust.models.layer_sampling import LayerSampledEnsemble, SampledModel
from lit_robust.models.layers import Conv2dSame
from lit_robust.models.lenet import LeNet5
from lit_robust.models.loading import defended_state_dict, load_defended_weights
from lit_robust.models.mlp import MLP
from lit_robust.models.normalize import Normalize
from lit_robust.models.pixel_redraw import PixelRedrawer
from lit_robust.models.pretrained import WeightsReport, load_weights
from lit_robust.models.resnet import ResNet18, ResNet50
from lit_robust.models.sampling_units import sampling_units, split_stages
from lit_robust.models.shape_check import check_backbone_fits
from lit_robust.models.timm_backbone import TimmBackbone
from lit_robust.models.torchvision_backbone import TorchvisionBackbone
from lit_robust.models.vgg import VGG16
from lit_robust.models.wide_resnet import WideResNet

__all__ = [
    "MLP",
    "VGG16",
    "Conv2dSame",
    "Critic",
    "DefendedModel",
    "GaussianNoise",
    "LayerSampledEnsemble",
    "LeNet5",
    "MnistModelA",
    "MnistModelB",
    "MnistModelC",
    "MnistModelD",
    "Normalize",
    "PRBasicCNN",
    "PixelRedrawer",
    "ResNet18",
    "ResNet50",
    "SampledModel",
    "TimmBackbone",
    "TorchvisionBackbone",
    "WeightsReport",
    "WideResNet",
    "check_backbone_fits",
    "defended_state_dict",
    "load_defended_weights",
    "load_weights",
    "sampling_units",
    "split_stages",
]
