"""The family base class of attribution methods, their registry, and the one verb ``explain``.

As in captum, an ``Explainer`` is built on a model and ``attribute(images, target, **settings)``
is called per batch. ``explain`` adds what every method shares: it accepts any form of a model,
checks the images and the settings, picks the predicted class when no target is given, freezes
the parameters for the call (and restores them), and returns a map shaped like the images.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from datadistill.inspect.modelfile import TrainedModel, as_module
from datadistill.registry import Registry

ModelLike = nn.Module | TrainedModel | str | os.PathLike[str]
Target = int | torch.Tensor | None


class Explainer:
    """One attribution method: the model at construction, the images and target per call.

    Subclasses implement ``attribute`` with their settings as keyword-only arguments whose
    defaults are the documented defaults; ``explain`` rejects any other keyword.
    """

    importance: bool = True  # the map ranks pixels by importance (not, e.g., class labels)

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def attribute(
        self, images: torch.Tensor, target: torch.Tensor, **settings: Any
    ) -> torch.Tensor:
        """A map for ``images`` (N, C, H, W) explaining each image's class in ``target`` (N,):
        shaped like the images, or (N, 1, H, W) for a per-pixel map."""
        raise NotImplementedError

    @classmethod
    def settings(cls) -> dict[str, Any]:
        """The method's settings and their defaults, read from ``attribute``'s signature."""
        params = inspect.signature(cls.attribute).parameters.values()
        return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


EXPLAINERS: Registry[type[Explainer]] = Registry("explanation method")


def leaf(images: torch.Tensor) -> torch.Tensor:
    """A copy of ``images`` that requires a gradient, so captum need not set (and warn about)
    it on the caller's tensor."""
    return images.detach().requires_grad_(True)


def device_of(model: nn.Module) -> torch.device:
    """Where the model's parameters live (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextmanager
def frozen(model: nn.Module) -> Iterator[nn.Module]:
    """Inside the block no parameter requires a gradient (no weight gradients are computed or
    accumulated); each parameter's own ``requires_grad`` is restored on leaving."""
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(False)
        yield model
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)


def prepare(
    model: ModelLike, images: torch.Tensor, target: Target
) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The model in eval mode, the images (detached, on its device) and one class per image:
    the predicted one for ``target=None``. Images that do not fit give a one-line ValueError."""
    module = as_module(model)
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[0] == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a non-empty (N, C, H, W) tensor, got {shape}")
    x = images.detach().to(device_of(module), torch.float32)
    try:
        with torch.no_grad():
            logits = module(x)
    except RuntimeError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"images of shape {tuple(images.shape)} do not fit this model ({reason})"
        ) from None
    n, classes = logits.shape[0], logits.shape[-1]
    if target is None:
        return module, x, logits.argmax(dim=-1)
    if isinstance(target, torch.Tensor) and target.ndim > 0:
        if target.shape != (n,):
            raise ValueError(f"target must be an int or a ({n},) tensor, got {tuple(target.shape)}")
        t = target.to(x.device, torch.long)
    else:
        t = torch.full((n,), int(target), dtype=torch.long, device=x.device)
    if bool(((t < 0) | (t >= classes)).any()):
        raise ValueError(f"target classes must lie in [0, {classes}), got {t.unique().tolist()}")
    return module, x, t


def check_settings(method: str, cls: type[Explainer], settings: dict[str, Any]) -> None:
    """A ValueError naming each setting that ``method`` does not have, and the ones it has."""
    known = cls.settings()
    unknown = sorted(set(settings) - set(known))
    if unknown:
        has = ", ".join(f"{k}={v!r}" for k, v in known.items()) or "none"
        raise ValueError(f"{method} has no setting {', '.join(unknown)}; its settings: {has}")


def to_image_shape(maps: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """A map shaped like ``images``: a coarser per-pixel map is upsampled (bilinear) and a
    one-channel map is repeated over the image's channels."""
    if maps.ndim == 3:
        maps = maps.unsqueeze(1)
    if maps.shape[-2:] != images.shape[-2:]:
        maps = F.interpolate(maps, size=images.shape[-2:], mode="bilinear", align_corners=False)
    if maps.shape[1] == 1 and images.shape[1] != 1:
        maps = maps.repeat(1, images.shape[1], 1, 1)
    if maps.shape != images.shape:
        raise RuntimeError(f"a map of shape {tuple(maps.shape)} for images {tuple(images.shape)}")
    return maps


def explain(
    model: ModelLike,
    images: torch.Tensor,
    method: str,
    target: Target = None,
    **settings: Any,
) -> torch.Tensor:
    """The ``method`` map (see ``EXPLAINERS.names()``) of ``images`` (N, C, H, W) for ``target``:
    each image's predicted class when None, else one class (int) or one per image ((N,) tensor).

    Returns a tensor shaped like ``images`` on their device. The model is put in eval mode and
    left otherwise as it was: its parameters keep their ``requires_grad``, no hook remains.
    """
    cls = EXPLAINERS.get(method)
    check_settings(method, cls, settings)
    module, x, t = prepare(model, images, target)
    with frozen(module):
        maps = cls(module).attribute(x, t, **settings)
    return to_image_shape(maps.detach().float(), x).to(images.device)
