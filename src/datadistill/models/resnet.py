"""The ``resnet18`` family's constructors; the networks themselves are in ``resnet_net`` (see
there), imported when one is built so that torchvision is imported only then."""

from __future__ import annotations

from torch import nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS


@MODELS.register("resnet18")
def resnet18(info: DatasetInfo) -> nn.Module:
    """ResNet-18 with batch norm, the reference's ``ResNet18BN``."""
    from datadistill.models.resnet_net import ResNet

    return ResNet(info.channels, info.num_classes, info.size, norm="batch")


@MODELS.register("resnet18-in")
def resnet18_in(info: DatasetInfo) -> nn.Module:
    """ResNet-18 with instance norm, the reference's ``ResNet18``."""
    from datadistill.models.resnet_net import ResNet

    return ResNet(info.channels, info.num_classes, info.size, norm="instance")


@MODELS.register("resnet18-ap")
def resnet18_ap(info: DatasetInfo) -> nn.Module:
    """ResNet-18, batch norm, average-pool downsampling: the reference's ``ResNet18BN_AP``."""
    from datadistill.models.resnet_net import ResNet

    return ResNet(info.channels, info.num_classes, info.size, norm="batch", avgpool_downsample=True)
