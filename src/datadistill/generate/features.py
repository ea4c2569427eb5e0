"""The feature network: the VGG-19 (or VGG-16) conv trunk of torchvision's architecture with
named layers (``conv1_1`` … ``conv5_4``, ``pool1`` … ``pool5``). It takes RGB images in [0, 1],
applies its weight source's own input normalisation, and runs only as deep as it is asked to.

``conv3_1`` names the rectified response of that convolution (Caffe's in-place ReLU, which is
what Gatys et al. matched). The module indices are torchvision's (``features.0.weight`` …), so its
state dicts load as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# Convolutions per block; each block ends in a 2×2 pooling.
BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)
POOLING = ("max", "avg")


class LayerNameError(ValueError):
    """A layer name the feature network does not have; the message lists those it has."""


def layer_names(arch: str = "vgg19") -> list[str]:
    """Every named layer of ``arch``, shallow to deep."""
    if arch not in BLOCKS:
        raise ValueError(f"unknown feature network {arch!r}; known: {', '.join(BLOCKS)}")
    names = []
    for b, n in enumerate(BLOCKS[arch], start=1):
        names += [f"conv{b}_{i}" for i in range(1, n + 1)] + [f"pool{b}"]
    return names


def layers_up_to(name: str, arch: str = "vgg19") -> list[str]:
    """Every layer from ``conv1_1`` to ``name`` (Gatys et al.'s "up to pool2")."""
    names = layer_names(arch)
    check_layers([name], arch)
    return names[: names.index(name) + 1]


def check_layers(layers: Sequence[str], arch: str = "vgg19") -> None:
    known = layer_names(arch)
    bad = [n for n in layers if n not in known]
    if bad or not layers:
        shown = ", ".join(known)
        raise LayerNameError(
            f"{arch} has no layer {bad[0] if bad else '(none given)'!r}; its layers: {shown}"
        )


class FeatureNet(nn.Module):
    """VGG conv trunk with named outputs; parameters frozen, always in eval mode."""

    def __init__(
        self,
        arch: str = "vgg19",
        pooling: str = "max",
        mean: Sequence[float] = (0.485, 0.456, 0.406),
        std: Sequence[float] = (0.229, 0.224, 0.225),
    ) -> None:
        super().__init__()
        layer_names(arch)  # an unknown architecture is one error naming the known ones
        if pooling not in POOLING:
            raise ValueError(f"pooling must be one of {list(POOLING)}, got {pooling!r}")
        self.arch, self.pooling = arch, pooling
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        modules: list[nn.Module] = []
        self._index: dict[str, int] = {}  # layer name -> index of the module that produces it
        channels = 3
        for b, (n, width) in enumerate(zip(BLOCKS[arch], WIDTHS, strict=True), start=1):
            for i in range(1, n + 1):
                modules += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=False)]
                self._index[f"conv{b}_{i}"] = len(modules) - 1
                channels = width
            modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
            self._index[f"pool{b}"] = len(modules) - 1
        self.features = nn.Sequential(*modules)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FeatureNet:
        return super().train(False)  # no dropout or norm layers: eval is the only mode

    def layer_names(self) -> list[str]:
        return list(self._index)

    def channels(self, name: str) -> int:
        """Feature maps at layer ``name``."""
        check_layers([name], self.arch)
        return WIDTHS[int(name[4]) - 1]

    def forward(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """The features at each of ``layers`` for ``(N, 3, H, W)`` images in [0, 1]."""
        check_layers(layers, self.arch)
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3, H, W) RGB images, got shape {tuple(x.shape)}")
        wanted = {self._index[n]: n for n in layers}
        deepest = max(wanted)
        pools = sum(
            isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in self.features[: deepest + 1]
        )
        if min(x.shape[-2:]) < 2**pools:
            raise ValueError(
                f"images of {x.shape[-2]}×{x.shape[-1]} are too small for layer "
                f"{wanted[deepest]} ({pools} poolings before it)"
            )
        out = {}
        h = (x - self.mean) / self.std
        for i, module in enumerate(self.features[: deepest + 1]):
            h = module(h)
            if i in wanted:
                out[wanted[i]] = h
        return out
