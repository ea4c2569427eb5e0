"""Pictures of sets: a grid with one row per class, de-normalised to pixel values."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from datadistill.synset import SyntheticSet


def to_pixels(synset: SyntheticSet) -> torch.Tensor:
    """Images in [0, 1]: undo the dataset normalisation; whitened images are min-max scaled each."""
    x = synset.images.detach().float().cpu()
    if synset.zca is not None:
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        return (x - lo) / (hi - lo).clamp_min(1e-8)
    mean = torch.tensor(synset.info.mean).view(1, -1, 1, 1)
    std = torch.tensor(synset.info.std).view(1, -1, 1, 1)
    return (x * std + mean).clamp(0, 1)


def save_grid(synset: SyntheticSet, path: str | os.PathLike[str], max_per_class: int = 20) -> Path:
    """Write a PNG: one row per class (labelled), at most ``max_per_class`` images per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pixels = to_pixels(synset)
    labels = synset.hard_labels.cpu()
    info = synset.info
    rows = [c for c in range(info.num_classes) if (labels == c).any()]
    cols = max(min(int((labels == c).sum()), max_per_class) for c in rows)
    cell = 0.5 if max(info.size) <= 16 else 0.8
    fig, axes = plt.subplots(
        len(rows),
        cols,
        figsize=(1.6 + cols * cell, len(rows) * cell),
        squeeze=False,
        gridspec_kw={"wspace": 0.05, "hspace": 0.05},
    )
    for r, c in enumerate(rows):
        images = pixels[labels == c][:max_per_class]
        for j in range(cols):
            ax = axes[r][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(images):
                img = images[j].permute(1, 2, 0).numpy()
                ax.imshow(
                    img.squeeze(-1) if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1
                )
        axes[r][0].set_ylabel(info.class_names[c], rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{synset.method} on {info.name}, {len(labels)} images", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path
