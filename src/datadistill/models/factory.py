"""The model registry: ``create_model("convnet", info)`` and ``list_models("resnet*")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from datadistill.datasets.info import DatasetInfo
from datadistill.registry import Registry

ModelFn = Callable[..., nn.Module]

MODELS: Registry[ModelFn] = Registry("model")


def create_model(name: str, info: DatasetInfo, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name`` for the dataset's channels, image size and classes.

    ``kwargs`` override the entry's settings (e.g. ``depth=4`` for a ConvNet). Construction draws
    from torch's global generator and never re-seeds it: seed at the call site for a repeatable
    model.
    """
    return MODELS.get(name)(info, **kwargs)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    return MODELS.names(pattern)


WEIGHT_INITS = ("default", "xavier")


def init_weights(model: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise conv and linear layers: ``default`` keeps PyTorch's own initialisation;
    ``xavier`` draws Xavier-normal weights and zero biases (the DD reference code's choice, which
    learns much faster in a few plain gradient steps)."""
    if scheme not in WEIGHT_INITS:
        raise ValueError(f"unknown weight_init {scheme!r}; use one of {list(WEIGHT_INITS)}")
    if scheme == "xavier":
        for layer in model.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_normal_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
    return model


def create_seeded_model(
    name: str,
    info: DatasetInfo,
    seed: int,
    device: str | torch.device = "cpu",
    weight_init: str = "default",
) -> nn.Module:
    """``create_model`` (then ``init_weights``) under a forked global RNG seeded with ``seed``: the
    same seed gives the same weights, and the caller's random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return init_weights(create_model(name, info), weight_init).to(device)


def draw_seed(generator: torch.Generator) -> int:
    """A fresh integer seed from ``generator`` (for a network or a library that takes an int)."""
    return int(torch.randint(2**31 - 1, (1,), generator=generator))
