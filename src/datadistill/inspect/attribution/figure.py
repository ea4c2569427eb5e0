"""One figure comparing attribution maps: a row per image, the image first, then one heat map
column per method (or per model), each column on one colour scale with its own colour bar."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from datadistill.atomic import write_atomically
from datadistill.datasets.info import DatasetInfo
from datadistill.inspect.display import hwc, to_pixels

CELL = 1.6  # inches per image
BAR = 0.45  # inches below the grid for the colour bars
DPI = 100


def magnitude(maps: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) maps as (N, H, W) per-pixel magnitudes: Σ_c |map|."""
    return maps.detach().float().cpu().abs().sum(dim=1)


def save_explanations(
    images: torch.Tensor,
    maps: dict[str, torch.Tensor],
    path: str | os.PathLike[str],
    info: DatasetInfo | None = None,
    titles: Sequence[str] | None = None,
) -> Path:
    """Write a PNG of ``images`` (N, C, H, W) beside each of ``maps`` (column title → a map
    shaped like the images, as ``explain`` returns): the image (de-normalised with ``info``,
    else scaled to its range), then Σ_c |map| per column on a shared scale with one colour bar.
    ``titles``: one label per row (e.g. the image's class). Written atomically; returns the path.
    The size is fixed by the grid: (1 + len(maps)) × N cells of ``CELL`` inches at ``DPI``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = images.shape[0]
    for name, m in maps.items():
        if m.shape[0] != n or m.shape[-2:] != images.shape[-2:]:
            raise ValueError(
                f"map {name!r} has shape {tuple(m.shape)}, images {tuple(images.shape)}"
            )
    if titles is not None and len(titles) != n:
        raise ValueError(f"{len(titles)} titles for {n} images")
    pixels = to_pixels(images, info)
    heat = {name: magnitude(m) for name, m in maps.items()}
    cols = 1 + len(heat)
    fig = Figure(figsize=(CELL * cols, CELL * n + BAR), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, cols, squeeze=False)
    for r in range(n):
        axes[r, 0].imshow(hwc(pixels[r]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if titles is not None:
            axes[r, 0].set_ylabel(titles[r], fontsize=8)
    for c, (name, values) in enumerate(heat.items(), start=1):
        top = float(values.max()) or 1.0
        for r in range(n):
            shown = axes[r, c].imshow(
                values[r].numpy(), cmap="inferno", vmin=0, vmax=top, interpolation="nearest"
            )
        bar = fig.colorbar(shown, ax=axes[:, c].tolist(), location="bottom", shrink=0.9)
        bar.ax.tick_params(labelsize=6)
        axes[0, c].set_title(name, fontsize=8)
    axes[0, 0].set_title("image", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return write_atomically(path, lambda tmp: fig.savefig(tmp, format="png"))
