"""Style transfer by optimisation (Gatys, Ecker & Bethge 2016): an image whose features at the
content layer match a photograph's and whose Gram matrices match a painting's,
``α · content + β · style`` with the ratio ``α/β`` the one setting that trades them."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from datadistill.generate.features import FeatureNet
from datadistill.generate.images import as_image, describe
from datadistill.generate.losses import Perceptual
from datadistill.generate.optimize import (
    Generated,
    feature_net_for,
    net_settings,
    noise,
    optimize_pixels,
)

STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
CONTENT_LAYERS = ("conv4_2",)
INITS = ("content", "noise")

ImageLike = torch.Tensor | str | os.PathLike[str]


def stylize(
    content: ImageLike,
    style: ImageLike,
    *,
    alpha_beta: float = 1e-3,
    content_layers: Sequence[str] = CONTENT_LAYERS,
    style_layers: Sequence[str] = STYLE_LAYERS,
    size: int = 128,
    steps: int = 200,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    init: str = "content",
    tv: float = 0.0,
    weights: str = "random",
    arch: str | None = None,
    pooling: str = "avg",
    net: FeatureNet | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> Generated:
    """``content`` painted in ``style`` (tensors, files or ``sample:NAME``), ``size``×``size``.
    ``init``: start from the content image (quicker) or from white noise (the paper)."""
    if init not in INITS:
        raise ValueError(f"init must be one of {list(INITS)}, got {init!r}")
    if alpha_beta < 0:
        raise ValueError(f"alpha_beta must be >= 0, got {alpha_beta}")
    net = feature_net_for(net, weights, arch, pooling, device)
    c = as_image(content, size, device)
    s = as_image(style, size, device)
    objective = Perceptual(
        net,
        style=s,
        style_layers=style_layers,
        content=c,
        content_layers=content_layers,
        alpha=alpha_beta,
        beta=1.0,
        tv=tv,
    )
    start = c if init == "content" else noise(tuple(c.shape), seed, device)
    result = optimize_pixels(objective, start, steps, optimizer, lr, progress, "stylize")
    result.settings = {
        "command": "stylize",
        "content": describe(content),
        "style": describe(style),
        "alpha_beta": alpha_beta,
        "content_layers": list(content_layers),
        "style_layers": list(style_layers),
        "size": list(c.shape[-2:]),
        "steps": steps,
        "optimizer": optimizer,
        "lr": lr,
        "init": init,
        "tv": tv,
        "seed": seed,
        **net_settings(net, weights),
    }
    return result
