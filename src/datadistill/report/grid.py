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
    from torchvision.utils import make_grid

    pixels = to_pixels(synset)
    labels = synset.hard_labels.cpu()
    info = synset.info
    rows = [c for c in range(info.num_classes) if (labels == c).any()]
    cols = max(min(int((labels == c).sum()), max_per_class) for c in rows)
    tiles = []
    for c in rows:
        images = pixels[labels == c][:max_per_class]
        blank = torch.ones(cols - len(images), *images.shape[1:])
        tiles.append(torch.cat([images, blank]))
    pad = 1
    grid = make_grid(torch.cat(tiles), nrow=cols, padding=pad, pad_value=1.0)
    h = info.size[0] + pad
    inches = max(2.0, min(0.3 * cols, 14.0)), max(1.5, min(0.3 * len(rows), 20.0))
    fig, ax = plt.subplots(figsize=(inches[0] + 1.2, inches[1] + 0.4))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([pad + h * r + info.size[0] / 2 for r in range(len(rows))])
    ax.set_yticklabels([info.class_names[c] for c in rows], fontsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(f"{synset.method} on {info.name}, {len(labels)} images", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=150, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path
