"""ResNet-18 for small images, built on torchvision's ``ResNet`` and ``BasicBlock``.

Imported by the ``resnet*`` constructors (``datadistill.models.resnet``) when one is built, so
torchvision (about a second to import) loads only when a ResNet is used.

Changes from torchvision, following DatasetCondensation: a CIFAR stem (3×3 stride-1 conv, no
max-pool), PyTorch's default initialisation, and no in-place operations (so the model can be
vmapped). ``resnet18`` uses batch norm, ``resnet18-in`` instance norm (the reference's
``ResNet18``) and ``resnet18-ap`` the reference's ``ResNet18BN_AP``, which downsamples by a stride-1
conv followed by 2×2 average pooling and flattens the whole final map instead of pooling it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, conv1x1
from torchvision.models.resnet import ResNet as TorchvisionResNet

from datadistill.models.layers import AFFINE_NORMS, Size, check_fits, choose, conv_out, halve


class _Block(BasicBlock):
    """torchvision's BasicBlock, no in-place operations; ``pool`` downsamples in the AP block."""

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__(
            inplanes, planes, stride, downsample, groups, base_width, dilation, norm_layer
        )
        self.relu = nn.ReLU()
        self.pool: nn.Module = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.pool(self.relu(self.bn1(self.conv1(x))))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class _AvgPoolBlock(_Block):
    """The reference's BasicBlock_AP: stride-1 convs, then 2×2 average pooling to downsample."""

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        norm_layer = norm_layer or nn.BatchNorm2d
        super().__init__(inplanes, planes, 1, None, groups, base_width, dilation, norm_layer)
        self.stride = stride
        if stride != 1:
            self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
        if downsample is not None:
            pool = nn.AvgPool2d(kernel_size=2, stride=2) if stride != 1 else nn.Identity()
            self.downsample = nn.Sequential(conv1x1(inplanes, planes), pool, norm_layer(planes))


class ResNet(TorchvisionResNet):
    """ResNet-18 with a CIFAR stem; ``embed`` gives the features that ``fc`` sees."""

    def __init__(
        self,
        channels: int,
        num_classes: int,
        size: Size,
        norm: Literal["instance", "batch"] = "batch",
        avgpool_downsample: bool = False,
    ) -> None:
        norm_layer = choose(AFFINE_NORMS, norm, "norm")
        block = _AvgPoolBlock if avgpool_downsample else _Block
        super().__init__(block, [2, 2, 2, 2], num_classes=num_classes, norm_layer=norm_layer)
        self.conv1 = nn.Conv2d(channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity()
        hw = size
        for _ in range(3):
            hw = halve(hw) if avgpool_downsample else conv_out(hw, 3, padding=1, stride=2)
        check_fits("resnet18-ap" if avgpool_downsample else "resnet18", size, hw)
        if avgpool_downsample:
            self.avgpool = nn.Identity()
            self.fc = nn.Linear(512 * hw[0] * hw[1], num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.reset_parameters()

    def embed(self, x: Tensor) -> Tensor:
        """The flattened features that the classifier sees."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.embed(x))
