"""Pictures of sets: a grid with one row per class (a single strip when each class has one
image), de-normalised to pixel values; soft labels are written on each image (its two most
likely classes)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from datadistill.atomic import save_figure
from datadistill.synset import SyntheticSet

SCALES = ("auto", "clip", "minmax")


def to_pixels(synset: SyntheticSet, scale: str = "auto") -> torch.Tensor:
    """Images in [0, 1]. ``clip`` undoes the dataset normalisation and clips; ``minmax`` scales
    each image to its own range; ``auto`` takes ``minmax`` for whitened images and for sets whose
    pixels leave the data range (more than a tenth clipped, as DD's unconstrained images do)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {list(SCALES)}, got {scale!r}")
    x = synset.images.detach().float().cpu()
    mean = torch.tensor(synset.info.mean).view(1, -1, 1, 1)
    std = torch.tensor(synset.info.std).view(1, -1, 1, 1)
    pixels = x * std + mean
    if scale == "auto":
        outside = ((pixels < -0.05) | (pixels > 1.05)).float().mean()
        scale = "minmax" if synset.zca is not None or outside > 0.1 else "clip"
    if scale == "clip":
        return pixels.clamp(0, 1)
    lo = x.amin(dim=(1, 2, 3), keepdim=True)
    hi = x.amax(dim=(1, 2, 3), keepdim=True)
    return (x - lo) / (hi - lo).clamp_min(1e-8)


def save_grid(
    synset: SyntheticSet,
    path: str | os.PathLike[str],
    max_per_class: int = 20,
    scale: str = "auto",
) -> Path:
    """Write a PNG: one row per class (labelled), at most ``max_per_class`` images per row, or,
    when every class has one image, a single row with each class named under its image; see
    ``to_pixels`` for ``scale``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torchvision.utils import make_grid

    pixels = to_pixels(synset, scale)
    labels = synset.hard_labels.cpu()
    info = synset.info
    classes = [c for c in range(info.num_classes) if (labels == c).any()]
    cols = max(min(int((labels == c).sum()), max_per_class) for c in classes)
    tiles, shown = [], []
    for c in classes:
        members = (labels == c).nonzero().flatten()[:max_per_class]
        shown.append(members)
        images = pixels[members]
        blank = torch.ones(cols - len(images), *images.shape[1:])
        tiles.append(torch.cat([images, blank]))
    one_row = cols == 1 and len(classes) > 1
    nrow = len(classes) if one_row else cols
    pad = 1
    grid = make_grid(torch.cat(tiles), nrow=nrow, padding=pad, pad_value=1.0)
    h, w = info.size[0] + pad, info.size[1] + pad
    if one_row:  # the strip's own aspect, so no band of white above it
        inches = max(2.0, min(0.5 * len(classes), 14.0)), 0.5
    else:
        inches = max(2.0, min(0.3 * cols, 14.0)), max(1.5, min(0.3 * len(classes), 20.0))
    fig, ax = plt.subplots(figsize=(inches[0] + 1.2, inches[1] + 0.4))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    names = [info.class_names[c] for c in classes]
    if one_row:
        ax.set_yticks([])
        ax.set_xticks([pad + w * i + info.size[1] / 2 for i in range(len(classes))], names)
        ax.tick_params(axis="x", length=0, labelsize=8)
    else:
        ax.set_xticks([])
        ax.set_yticks([pad + h * r + info.size[0] / 2 for r in range(len(classes))], names)
        ax.tick_params(axis="y", labelsize=8)
    if synset.soft:
        probs = synset.labels.detach().float().cpu()
        for r, members in enumerate(shown):
            for i, n in enumerate(members.tolist()):
                row, col = (0, r) if one_row else (r, i)
                top = probs[n].topk(min(2, info.num_classes))
                text = "\n".join(
                    f"{info.class_names[k]} {v:.2f}"
                    for v, k in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                )
                ax.text(
                    pad + w * col + w / 2,
                    h * (row + 1) - pad,
                    text,
                    ha="center",
                    va="bottom",
                    fontsize=4,
                    bbox={"facecolor": "white", "alpha": 0.7, "pad": 0.5, "linewidth": 0},
                )
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(f"{synset.method} on {info.name}, {len(labels)} images", fontsize=9)
    return save_figure(fig, path, dpi=150)
