"""Figures of generated images: a grid of panels with row and column titles, and the overlap
pattern of transposed convolutions. Each draws on its own matplotlib ``Figure`` (no pyplot) and
writes a PNG atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from datadistill.atomic import write_atomically
from datadistill.generate.images import to_uint8


def write_png(fig: Figure, path: str | os.PathLike[str], dpi: int) -> Path:
    return write_atomically(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    )


def save_panels(
    images: Sequence[Sequence[torch.Tensor | None]],
    path: str | os.PathLike[str],
    *,
    row_titles: Sequence[str] = (),
    col_titles: Sequence[str] = (),
    captions: Sequence[Sequence[str]] = (),
    title: str = "",
    inches: float = 1.6,
    dpi: int = 110,
) -> Path:
    """Rows of ``(1, 3, H, W)`` images in [0, 1] (``None`` leaves a panel empty), with a title
    per row and column and a caption under each panel."""
    rows, cols = len(images), max(len(r) for r in images)
    fig = Figure(figsize=(cols * inches + (0.9 if row_titles else 0.1), rows * inches + 0.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for r, row in enumerate(images):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            image = row[c] if c < len(row) else None
            if image is None:
                ax.set_axis_off()
                continue
            ax.imshow(to_uint8(image), interpolation="nearest")
            if r == 0 and col_titles:
                ax.set_title(col_titles[c], fontsize=7)
            if c == 0 and row_titles:
                ax.set_ylabel(row_titles[r], fontsize=7)
            if captions and captions[r][c]:
                ax.set_xlabel(captions[r][c], fontsize=6)
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return write_png(fig, path, dpi)


def save_overlap(patterns: dict[str, torch.Tensor], path: str | os.PathLike[str]) -> Path:
    """Each ``overlap`` pattern as a grey map with its tap counts written on the pixels."""
    fig = Figure(figsize=(3.2 * len(patterns), 3.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(patterns), squeeze=False)[0]
    for ax, (name, counts) in zip(axes, patterns.items(), strict=True):
        ax.imshow(counts.numpy(), cmap="Greys", vmin=0, interpolation="nearest")
        for (y, x), v in zip(
            torch.cartesian_prod(*map(torch.arange, counts.shape)).tolist(),
            counts.flatten().tolist(),
            strict=True,
        ):
            ax.text(x, y, str(v), ha="center", va="center", fontsize=5, color="tab:red")
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return write_png(fig, path, 110)
