"""Images for figures: normalised tensors back to pixels in [0, 1], laid out as matplotlib wants."""

from __future__ import annotations

import numpy as np
import torch

from datadistill.datasets.info import DatasetInfo


def to_pixels(images: torch.Tensor, info: DatasetInfo | None = None) -> torch.Tensor:
    """``(N, C, H, W)`` normalised images as pixels in [0, 1]: the dataset normalisation undone
    and clipped when ``info`` is given, else each image scaled to its own range."""
    x = images.detach().float().cpu()
    if info is not None and len(info.mean) == x.shape[1]:
        mean = torch.tensor(info.mean).view(1, -1, 1, 1)
        std = torch.tensor(info.std).view(1, -1, 1, 1)
        return (x * std + mean).clamp(0, 1)
    lo = x.amin(dim=(1, 2, 3), keepdim=True)
    hi = x.amax(dim=(1, 2, 3), keepdim=True)
    return (x - lo) / (hi - lo).clamp_min(1e-8)


def hwc(image: torch.Tensor) -> np.ndarray:
    """One ``(C, H, W)`` image in [0, 1] as ``(H, W)`` (grey) or ``(H, W, 3)`` for ``imshow``."""
    x = image.detach().float().cpu()
    return x[0].numpy() if x.shape[0] == 1 else x.permute(1, 2, 0).numpy()
