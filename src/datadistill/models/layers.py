"""Pieces shared by the model families: norm, activation and pooling tables, and shape arithmetic.

Feature sizes are computed from these formulas rather than hard-coded, so that every model adapts to
the dataset's image size, and a size that a model cannot take fails at construction, with a clear
message, instead of deep inside a forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from torch import nn

T = TypeVar("T")
Size = tuple[int, int]
NormFactory = Callable[[int], nn.Module]


def instance_norm(channels: int) -> nn.GroupNorm:
    """Instance norm as the reference writes it: one group per channel, per-channel affine."""
    return nn.GroupNorm(channels, channels, affine=True)


def layer_norm(channels: int) -> nn.GroupNorm:
    """Normalises over (C, H, W) like a layer norm, with a per-channel (size-independent) affine."""
    return nn.GroupNorm(1, channels, affine=True)


def group_norm(channels: int) -> nn.GroupNorm:
    """Four groups, as the reference's ``groupnorm``."""
    return nn.GroupNorm(4, channels, affine=True)


NORMS: dict[str, NormFactory | None] = {
    "instance": instance_norm,
    "batch": nn.BatchNorm2d,
    "layer": layer_norm,
    "group": group_norm,
    "none": None,
}
AFFINE_NORMS: dict[str, NormFactory] = {"instance": instance_norm, "batch": nn.BatchNorm2d}
ACTS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "leakyrelu": partial(nn.LeakyReLU, 0.01),
}
POOLS: dict[str, Callable[[], nn.Module] | None] = {
    "avg": partial(nn.AvgPool2d, kernel_size=2, stride=2),
    "max": partial(nn.MaxPool2d, kernel_size=2, stride=2),
    "none": None,
}


def choose(table: Mapping[str, T], key: str, what: str) -> T:
    """Look ``key`` up in a table of options; a ValueError names the valid ones."""
    if key not in table:
        raise ValueError(f"unknown {what} {key!r}; choose from {', '.join(table)}")
    return table[key]


def conv_out(size: Size, kernel: int, padding: int = 0, stride: int = 1) -> Size:
    """Spatial size after a convolution with this kernel, padding and stride."""
    h, w = size
    return (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1


def halve(size: Size) -> Size:
    """Spatial size after a 2×2, stride-2 pooling."""
    return size[0] // 2, size[1] // 2


def check_fits(model: str, image: Size, features: Size) -> None:
    """Raise a ValueError when the image is too small for the model's downsampling."""
    if min(features) < 1:
        raise ValueError(
            f"{model}: a {image[0]}x{image[1]} image is too small for this model; "
            f"its feature map would be {features[0]}x{features[1]}"
        )
