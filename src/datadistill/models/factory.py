"""The model registry: ``create_model("convnet", info)`` and ``list_models("resnet*")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
