"""Occlusion (Zeiler & Fergus 2014): a grey square slides over the image and the class
probabilities are recorded at each of its positions. Two maps, as in their figure 7:

- ``occlusion``: per pixel, the drop of the target class's probability, p(image) − p(occluded),
  averaged over the positions whose square covers the pixel (captum's ``Occlusion``); positive
  where hiding the pixel's region costs the class.
- ``occlusion-top``: per pixel, the most probable class (its index, as a float; or, with
  ``value="probability"``, its probability) when the square is at the position whose centre is
  nearest to the pixel; with ``stride=1`` that is the square centred on the pixel.

Both use the same positions: the square's corner at 0, stride, 2·stride, ... along each side,
the last one clipped at the border, so that every pixel is covered. The square spans all
channels and is filled with ``baseline`` (0 is the dataset's mean colour for normalised images).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from captum.attr import Occlusion
from torch import nn

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer

CHUNK = 256  # occluded copies per forward pass
VALUES = ("class", "probability")


def probabilities(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The model's softmax probabilities, so that drops are in probability, not logit."""
    return lambda x: torch.softmax(model(x), dim=-1)


def window_and_stride(
    images: torch.Tensor, window: int | None, stride: int | None
) -> tuple[int, int]:
    """The square's side (default: a quarter of the image's shorter side) and its step
    (default: half the side), both at least 1."""
    side = min(images.shape[-2:])
    w = max(1, side // 4) if window is None else int(window)
    s = max(1, w // 2) if stride is None else int(stride)
    if not 1 <= w <= side or s < 1:
        raise ValueError(f"need 1 <= window <= {side} and stride >= 1, got {w} and {s}")
    return w, s


def starts(size: int, window: int, stride: int) -> list[int]:
    """Where the square starts along a side of ``size`` pixels (captum's positions)."""
    return [k * stride for k in range(math.ceil((size - window) / stride) + 1)]


def nearest_position(size: int, window: int, stride: int) -> torch.Tensor:
    """For each pixel along a side, the index of the position whose centre is nearest."""
    centres = torch.tensor(
        [(a + min(a + window, size) - 1) / 2 for a in starts(size, window, stride)]
    )
    return (torch.arange(size)[:, None] - centres[None]).abs().argmin(dim=1)


@EXPLAINERS.register("occlusion")
class OcclusionExplainer(Explainer):
    """captum's ``Occlusion`` on the softmax: the target probability's drop per pixel."""

    def attribute(
        self,
        images: torch.Tensor,
        target: torch.Tensor,
        *,
        window: int | None = None,
        stride: int | None = None,
        baseline: float = 0.0,
    ) -> torch.Tensor:
        """``window``: the square's side (default a quarter of the shorter image side);
        ``stride``: its step (default half the window); ``baseline``: its fill value."""
        w, s = window_and_stride(images, window, stride)
        return Occlusion(probabilities(self.model)).attribute(
            images,
            sliding_window_shapes=(images.shape[1], w, w),
            strides=(1, s, s),
            baselines=baseline,
            target=target,
            perturbations_per_eval=max(1, CHUNK // images.shape[0]),
        )


@EXPLAINERS.register("occlusion-top")
class OcclusionTopExplainer(Explainer):
    """The most probable class as the square moves (captum has no such map); ignores target."""

    importance = False  # class labels, not a ranking of pixels

    def attribute(
        self,
        images: torch.Tensor,
        target: torch.Tensor,
        *,
        window: int | None = None,
        stride: int | None = None,
        baseline: float = 0.0,
        value: str = "class",
    ) -> torch.Tensor:
        """Settings as for ``occlusion``; ``value``: ``"class"`` (the top class's index) or
        ``"probability"`` (the top class's probability). Returns a (N, 1, H, W) map."""
        if value not in VALUES:
            raise ValueError(f"value must be one of {list(VALUES)}, got {value!r}")
        h, w_img = images.shape[-2:]
        w, s = window_and_stride(images, window, stride)
        rows, cols = starts(h, w, s), starts(w_img, w, s)
        masks = torch.zeros(len(rows) * len(cols), 1, h, w_img, dtype=torch.bool)
        for p, (a, b) in enumerate((a, b) for a in rows for b in cols):
            masks[p, :, a : a + w, b : b + w] = True
        masks = masks.to(images.device)
        near_y = nearest_position(h, w, s).to(images.device)
        near_x = nearest_position(w_img, w, s).to(images.device)
        maps = []
        for image in images:
            occluded = torch.where(masks, torch.full_like(image, baseline), image)
            with torch.no_grad():
                probs = torch.cat([probabilities(self.model)(c) for c in occluded.split(CHUNK)])
            top_p, top_class = probs.max(dim=-1)
            grid = (top_class.float() if value == "class" else top_p).view(len(rows), len(cols))
            maps.append(grid[near_y][:, near_x])
        return torch.stack(maps).unsqueeze(1)
