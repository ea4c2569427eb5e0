"""ConvNet, the field's standard backbone (DatasetCondensation's ``ConvNet``), and its variants.

Each block is conv 3×3 → norm → activation → 2×2 pooling; a linear layer classifies the flattened
features. As in the reference, the first convolution pads by 3 when the images have one channel
(28×28 MNIST becomes 32×32 → 16 → 8 → 4). Pooling is skipped once the map is 1×1, so deep variants
still take 8×8 images where the reference would fail. The registered names are rows of
``VARIANTS``; every one accepts keyword overrides of the ``ConvNetConfig`` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS
from datadistill.models.layers import ACTS, NORMS, POOLS, Size, choose, conv_out, halve

Norm = Literal["instance", "batch", "layer", "group", "none"]
Act = Literal["relu", "sigmoid", "leakyrelu"]
Pool = Literal["avg", "max", "none"]


@dataclass(frozen=True)
class ConvNetConfig:
    """The settings of a ConvNet; the defaults are the field's standard ConvNet-3."""

    width: int = 128
    depth: int = 3
    norm: Norm = "instance"
    act: Act = "relu"
    pool: Pool = "avg"


class ConvNet(nn.Module):
    """``depth`` conv blocks of ``width`` channels, then one linear classifier."""

    def __init__(
        self,
        channels: int,
        num_classes: int,
        size: Size,
        width: int = 128,
        depth: int = 3,
        norm: Norm = "instance",
        act: Act = "relu",
        pool: Pool = "avg",
    ) -> None:
        super().__init__()
        make_norm = choose(NORMS, norm, "norm")
        make_act = choose(ACTS, act, "activation")
        make_pool = choose(POOLS, pool, "pooling")
        if depth < 1 or width < 1:
            raise ValueError(f"ConvNet needs depth >= 1 and width >= 1, got {depth} and {width}")
        layers: list[nn.Module] = []
        hw = size
        in_channels = channels
        for d in range(depth):
            padding = 3 if channels == 1 and d == 0 else 1
            layers.append(nn.Conv2d(in_channels, width, kernel_size=3, padding=padding))
            hw = conv_out(hw, 3, padding)
            if make_norm is not None:
                layers.append(make_norm(width))
            layers.append(make_act())
            if make_pool is not None and min(hw) >= 2:
                layers.append(make_pool())
                hw = halve(hw)
            in_channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * hw[0] * hw[1], num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The flattened features that the classifier sees."""
        return self.features(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.embed(x))


VARIANTS: dict[str, ConvNetConfig] = {
    "convnet": ConvNetConfig(),
    "convnet-bn": ConvNetConfig(norm="batch"),
    "convnet-ln": ConvNetConfig(norm="layer"),
    "convnet-gn": ConvNetConfig(norm="group"),
    "convnet-nn": ConvNetConfig(norm="none"),
    "convnet-d1": ConvNetConfig(depth=1),
    "convnet-d2": ConvNetConfig(depth=2),
    "convnet-d4": ConvNetConfig(depth=4),
    "convnet-w32": ConvNetConfig(width=32),
    "convnet-w64": ConvNetConfig(width=64),
    "convnet-w256": ConvNetConfig(width=256),
    "convnet-sigmoid": ConvNetConfig(act="sigmoid"),
    "convnet-leakyrelu": ConvNetConfig(act="leakyrelu"),
    "convnet-maxpool": ConvNetConfig(pool="max"),
    "convnet-nopool": ConvNetConfig(pool="none"),
}


def _constructor(config: ConvNetConfig) -> Callable[..., ConvNet]:
    """A registry entry for one variant; keyword arguments override its config fields."""

    def build(info: DatasetInfo, **overrides: Any) -> ConvNet:
        settings = asdict(replace(config, **overrides))
        return ConvNet(info.channels, info.num_classes, info.size, **settings)

    return build


for _name, _config in VARIANTS.items():
    MODELS.register(_name)(_constructor(_config))
