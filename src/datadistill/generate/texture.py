"""Texture synthesis (Gatys, Ecker & Bethge 2015): white noise optimised until the Gram matrices
of chosen layers match a texture's."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from datadistill.generate.features import FeatureNet, layers_up_to
from datadistill.generate.images import as_image, describe
from datadistill.generate.losses import Perceptual, gram_parameters
from datadistill.generate.optimize import (
    Generated,
    feature_net_for,
    net_settings,
    noise,
    optimize_pixels,
)

# The paper's layers: conv1_1 and the four poolings (with every layer up to pool4 in its ablation)
TEXTURE_LAYERS = ("conv1_1", "pool1", "pool2", "pool3", "pool4")


def texture(
    style: torch.Tensor | str | os.PathLike[str],
    *,
    layers: Sequence[str] = TEXTURE_LAYERS,
    up_to: str | None = None,
    size: int = 128,
    steps: int = 200,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    weights: str = "random",
    arch: str | None = None,
    pooling: str = "avg",
    net: FeatureNet | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> Generated:
    """A ``size``×``size`` texture like ``style`` (an image tensor, file or ``sample:NAME``).
    ``up_to``: match every layer from conv1_1 to this one instead of ``layers`` (the ablation)."""
    net = feature_net_for(net, weights, arch, pooling, device)
    layers = layers_up_to(up_to, net.arch) if up_to else list(layers)
    target = as_image(style, size, device)
    objective = Perceptual(net, style=target, style_layers=layers)
    result = optimize_pixels(
        objective,
        noise((1, 3, size, size), seed, device),
        steps,
        optimizer,
        lr,
        progress,
        "texture",
    )
    result.settings = {
        "command": "texture",
        "style": describe(style),
        "layers": layers,
        "gram_parameters": gram_parameters(net, layers),
        "size": size,
        "steps": steps,
        "optimizer": optimizer,
        "lr": lr,
        "seed": seed,
        **net_settings(net, weights),
    }
    return result
