"""Pictures of a distillation experiment: the students' test curves with and without the
teacher (mean ± std over seeds), examples of x beside φ(x), and a 2-d VAE's latent map."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import TensorSet
from datadistill.inspect.figures import mosaic, write_png
from datadistill.transfer.mappings.base import Mapping

if TYPE_CHECKING:
    from datadistill.transfer.experiment import KDResult

COLOURS = {"with teacher": "tab:blue", "without teacher": "tab:orange"}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_curves(result: KDResult, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """Test accuracy and cross-entropy against epoch, with vs without the teacher, mean ± std
    band over seeds."""
    fig = _figure(9, 3.4)
    axes = fig.subplots(1, 2)
    groups = {"with teacher": result.with_teacher, "without teacher": result.without_teacher}
    for ax, (key, label) in zip(
        axes, (("test_acc", "test accuracy (%)"), ("test_ce", "test cross-entropy")), strict=True
    ):
        for name, runs in groups.items():
            curves = np.array([getattr(r, key) for r in runs])
            mean, std = curves.mean(0), curves.std(0)
            epochs = np.arange(1, curves.shape[1] + 1)
            ax.plot(epochs, mean, color=COLOURS[name], label=name, lw=1.5)
            ax.fill_between(epochs, mean - std, mean + std, color=COLOURS[name], alpha=0.25)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    cfg = result.config
    fig.suptitle(
        title
        or f"teacher on {result.teacher.info.name}, student on {result.target} "
        f"(φ = {result.mapping.name}): λ={cfg.lam}, T={cfg.temperature}, "
        f"{len(result.with_teacher)} seeds, mean ± std",
        fontsize=10,
    )
    fig.tight_layout()
    return write_png(fig, path)


def _pixels(x: torch.Tensor, info: DatasetInfo) -> np.ndarray:
    """Normalised images as ``(N, H, W[, 3])`` in [0, 1]; images far outside the data's range
    (a random convolution's) are scaled each to its own range."""
    x = x.detach().float().cpu()
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    p = x * std + mean
    outside = ((p < -0.05) | (p > 1.05)).float().mean()
    if outside > 0.1:
        lo = p.amin(dim=(1, 2, 3), keepdim=True)
        hi = p.amax(dim=(1, 2, 3), keepdim=True)
        p = (p - lo) / (hi - lo).clamp_min(1e-8)
    p = p.clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return p[..., 0] if p.shape[-1] == 1 else p


def _show(ax, tiles: np.ndarray, cols: int, title: str) -> None:
    grid = mosaic(tiles, cols)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def save_mapping_examples(
    mapping: Mapping,
    data: TensorSet,
    path: str | os.PathLike[str],
    per_class: int = 1,
    generator: torch.Generator | None = None,
) -> Path:
    """Rows of target images x (``per_class`` of each class, in class order) above φ(x)."""
    ix = torch.cat([data.indices_of(c)[:per_class] for c in range(data.num_classes)])
    x = data.images[ix]
    y = mapping(x, generator)
    cols = len(ix)
    fig = _figure(max(4.0, 0.55 * cols), 1.6)
    axes = fig.subplots(2, 1)
    _show(axes[0], _pixels(x, mapping.target_info), cols, f"x ({mapping.target_info.name})")
    _show(axes[1], _pixels(y, mapping.source_info), cols, f"φ(x): {mapping.name}")
    fig.tight_layout()
    return write_png(fig, path)


def save_latent_map(
    mapping: Mapping, path: str | os.PathLike[str], n: int = 12, extent: float = 2.0
) -> Path:
    """A 2-d VAE's latent plane: an ``n × n`` grid of points within ``extent`` prior standard
    deviations, decoded as target images (left) and source images (right)."""
    if getattr(mapping.config, "latent_dim", None) != 2:
        raise ValueError("the latent map needs a VAE mapping with latent_dim=2")
    r = extent * mapping.config.prior_std
    axis = torch.linspace(-r, r, n)
    zy, zx = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    z = torch.stack([zx.flatten(), zy.flatten()], 1)
    target, source = mapping.decode(z)
    fig = _figure(10, 5.2)
    axes = fig.subplots(1, 2)
    _show(axes[0], _pixels(target, mapping.target_info), n, f"{mapping.target_info.name} decoder")
    _show(axes[1], _pixels(source, mapping.source_info), n, f"{mapping.source_info.name} decoder")
    fig.suptitle(f"latent plane z ∈ [−{r:g}, {r:g}]², the same points on both sides", fontsize=10)
    fig.tight_layout()
    return write_png(fig, path)
