"""Layers of a network by name (``model.named_modules()``), with one clear error for a name the
network lacks, and the conv layers and penultimate features that the inspection tools use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class LayerNotFoundError(ValueError):
    """A layer name the network does not have; the message lists the names it has."""


def layer_names(model: nn.Module) -> list[str]:
    """Every named sub-module (``features.0``, ``layer3.1.conv2``, ...), in definition order."""
    return [name for name, _ in model.named_modules() if name]


def layer_of(model: nn.Module, name: str) -> nn.Module:
    """The sub-module called ``name``, or a ``LayerNotFoundError`` naming the ones there are."""
    modules = dict(model.named_modules())
    if not name or name not in modules:
        shown = ", ".join(layer_names(model))
        raise LayerNotFoundError(
            f"{type(model).__name__} has no layer {name!r}; its layers: {shown}"
        )
    return modules[name]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's 2-D convolutions, first to last."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def last_conv(model: nn.Module) -> str:
    """The name of the last 2-D convolution (Grad-CAM's default layer)."""
    names = conv_layers(model)
    if not names:
        raise LayerNotFoundError(f"{type(model).__name__} has no Conv2d layer")
    return names[-1]


ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh)


def last_conv_block(model: nn.Module) -> str:
    """The activation that follows the last 2-D convolution (the output of the last conv block),
    else the last convolution. Grad-CAM's default: between a convolution and its activation an
    instance or group norm removes the spatial mean of the gradient, which is exactly what
    Grad-CAM weights channels by, so at the convolution itself its map is zero."""
    conv = last_conv(model)
    names = [name for name, _ in model.named_modules()]
    after = names[names.index(conv) + 1 :]
    modules = dict(model.named_modules())
    return next((n for n in after if isinstance(modules[n], ACTIVATIONS)), conv)


@contextmanager
def recording(model: nn.Module, name: str) -> Iterator[dict[str, torch.Tensor]]:
    """Inside the block, ``out["output"]`` is the output of layer ``name`` of the last forward."""
    out: dict[str, torch.Tensor] = {}
    handle = layer_of(model, name).register_forward_hook(
        lambda _m, _i, output: out.__setitem__("output", output)
    )
    try:
        yield out
    finally:
        handle.remove()


def activations(model: nn.Module, name: str, images: torch.Tensor) -> torch.Tensor:
    """The output of layer ``name`` for ``images`` (a forward pass, no gradients)."""
    with torch.no_grad(), recording(model, name) as out:
        model(images)
    return out["output"]
