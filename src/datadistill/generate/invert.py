"""Feature inversion (Mahendran & Vedaldi 2015): an image reconstructed from its features at one
layer, from white noise, by minimising ``‖Φ(x) − Φ₀‖² / ‖Φ₀‖² + tv · TV(x)``. The deeper the
layer, the less of the picture its features pin down."""

from __future__ import annotations

import os

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


def invert(
    image: torch.Tensor | str | os.PathLike[str],
    layer: str = "conv3_1",
    *,
    size: int = 128,
    steps: int = 200,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    tv: float = 1e-4,
    weights: str = "random",
    arch: str | None = None,
    pooling: str = "max",
    net: FeatureNet | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> Generated:
    """``image`` (tensor, file or ``sample:NAME``) rebuilt from its ``layer`` features."""
    net = feature_net_for(net, weights, arch, pooling, device)
    target = as_image(image, size, device)
    with torch.no_grad():
        energy = net(target, [layer])[layer].square().sum() / target.shape[0]
    # α = 2 / ‖Φ₀‖² turns the content loss ½‖Φ(x) − Φ₀‖² into Mahendran & Vedaldi's relative error
    objective = Perceptual(
        net,
        content=target,
        content_layers=[layer],
        alpha=2.0 / float(energy.clamp_min(1e-12)),
        tv=tv,
    )
    start = noise(tuple(target.shape), seed, device)
    result = optimize_pixels(objective, start, steps, optimizer, lr, progress, f"invert {layer}")
    result.losses["relative_error"] = result.losses["content"] * 2.0 / float(energy)
    result.settings = {
        "command": "invert",
        "image": describe(image),
        "layer": layer,
        "size": list(target.shape[-2:]),
        "steps": steps,
        "optimizer": optimizer,
        "lr": lr,
        "tv": tv,
        "seed": seed,
        **net_settings(net, weights),
    }
    return result
