"""VGG-11 as in DatasetCondensation, with instance norm (``vgg11``) or batch norm (``vgg11-bn``).

The first conv pads by 3 for one-channel images, as the reference. A max-pool is skipped once the
map is 1×1, so small images (8×8 digits) still fit; the classifier sees the whole final map.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS
from datadistill.models.layers import AFFINE_NORMS, Size, choose, conv_out, halve

VGG11: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


class VGG(nn.Module):
    """Conv 3×3 → norm → relu blocks and max-pools ("M") following ``cfg``, then a linear layer."""

    def __init__(
        self,
        channels: int,
        num_classes: int,
        size: Size,
        cfg: tuple[int | str, ...] = VGG11,
        norm: Literal["instance", "batch"] = "instance",
    ) -> None:
        super().__init__()
        make_norm = choose(AFFINE_NORMS, norm, "norm")
        layers: list[nn.Module] = []
        hw = size
        in_channels = channels
        for i, v in enumerate(cfg):
            if v == "M":
                if min(hw) >= 2:
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                    hw = halve(hw)
                continue
            out_channels = int(v)
            padding = 3 if channels == 1 and i == 0 else 1
            layers += [
                nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=padding),
                make_norm(out_channels),
                nn.ReLU(),
            ]
            hw = conv_out(hw, 3, padding)
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(in_channels * hw[0] * hw[1], num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The flattened features that the classifier sees."""
        return self.features(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.embed(x))


@MODELS.register("vgg11")
def vgg11(info: DatasetInfo) -> VGG:
    """VGG-11 with instance norm, the reference's ``VGG11``."""
    return VGG(info.channels, info.num_classes, info.size, norm="instance")


@MODELS.register("vgg11-bn")
def vgg11_bn(info: DatasetInfo) -> VGG:
    """VGG-11 with batch norm, the reference's ``VGG11BN``."""
    return VGG(info.channels, info.num_classes, info.size, norm="batch")
