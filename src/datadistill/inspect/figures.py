"""Figures of what a network has learned (the numbers come from ``inspect.features``): filters,
activations, the images that excite a channel, a t-SNE map with thumbnails, nearest neighbours.

Each writer draws on its own matplotlib ``Figure`` with the Agg canvas (no pyplot, no global
state), writes a PNG atomically (a temporary file in the same folder, then ``os.replace``) and
returns its path.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from datadistill.atomic import write_atomically
from datadistill.datasets.info import DatasetInfo
from datadistill.inspect.display import hwc, to_pixels
from datadistill.inspect.features import (
    ModelLike,
    channel_count,
    check_images,
    conv_filters,
    embed_features,
    neighbours,
    run_checked,
    top_images,
    tsne,
)
from datadistill.inspect.layers import activations, conv_layers, layer_of
from datadistill.inspect.modelfile import as_module

THUMBNAILS = 60  # images drawn on a t-SNE map; more hide the points


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def write_png(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` as a PNG at ``path``, atomically."""
    return write_atomically(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight")
    )


def mosaic(tiles: np.ndarray, cols: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """``(N, h, w[, 3])`` tiles laid out in rows of ``cols`` with ``pad`` pixels of ``fill``."""
    n, h, w = tiles.shape[:3]
    rows = math.ceil(n / cols)
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad, *tiles.shape[3:])
    out = np.full(shape, fill, dtype=np.float32)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        out[
            pad + r * (h + pad) : (r + 1) * (h + pad), pad + c * (w + pad) : (c + 1) * (w + pad)
        ] = tile
    return out


def _show(ax: Axes, image: torch.Tensor, title: str = "", fontsize: float = 6) -> None:
    """One ``(C, H, W)`` pixel image in [0, 1] on ``ax``, without ticks."""
    ax.imshow(hwc(image), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def _name(info: DatasetInfo | None, label: int) -> str:
    if info is not None and 0 <= label < len(info.class_names):
        return info.class_names[label]
    return str(label)


def save_filters(model: ModelLike, path: str | os.PathLike[str], layer: str | None = None) -> Path:
    """A grid of the filters of conv ``layer`` (by default the first), each scaled to its own
    range: in colour when it reads 3 channels, else grey (averaged over its input channels when
    it reads other than 1)."""
    net = as_module(model)
    weights = conv_filters(net, layer).float()
    name = layer if layer is not None else conv_layers(net)[0]
    out, ins = weights.shape[:2]
    tiles = weights if ins in (1, 3) else weights.mean(1, keepdim=True)
    lo = tiles.amin(dim=(1, 2, 3), keepdim=True)
    hi = tiles.amax(dim=(1, 2, 3), keepdim=True)
    tiles = ((tiles - lo) / (hi - lo).clamp_min(1e-8)).expand(-1, 3, -1, -1)
    cols = math.ceil(math.sqrt(out))
    grid = mosaic(tiles.permute(0, 2, 3, 1).numpy(), cols)
    size = min(0.4 * cols, 10.0)
    fig = _figure(size + 0.5, size * grid.shape[0] / grid.shape[1] + 0.6)
    ax = fig.add_subplot()
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    note = "" if ins in (1, 3) else f", mean over {ins} inputs"
    ax.set_title(f"{name}: {out} filters {weights.shape[2]}×{weights.shape[3]}{note}", fontsize=8)
    return write_png(fig, path)


def save_activations(
    model: ModelLike,
    image: torch.Tensor,
    layer: str,
    path: str | os.PathLike[str],
    info: DatasetInfo | None = None,
) -> Path:
    """The input image, then one tile per channel of ``layer``'s output for it (one pixel per unit
    for a linear layer), all on one colour scale."""
    net = as_module(model)
    layer_of(net, layer)
    x = check_images(net, image, "image")
    if x.shape[0] != 1:
        raise ValueError(f"save_activations takes one image, got {x.shape[0]}")
    out = run_checked(net, lambda b: activations(net, layer, b), x)
    count = channel_count(out, layer)
    maps = out[0].detach().float().cpu()
    if maps.ndim == 1:
        maps, pad = maps.view(count, 1, 1), 0
    elif maps.ndim == 3:
        pad = 1
    else:
        raise ValueError(
            f"layer {layer!r} gives {tuple(out.shape)}; expected (N, C) or (N, C, H, W)"
        )
    cols = math.ceil(math.sqrt(count))
    grid = mosaic(maps.numpy(), cols, pad=pad, fill=np.nan)
    fig = _figure(9, 4.5)
    axes = fig.add_gridspec(1, 2, width_ratios=[1, 3]).subplots()
    _show(axes[0], to_pixels(x, info)[0], "input", fontsize=8)
    shown = axes[1].imshow(
        grid,
        cmap=colormaps["viridis"].with_extremes(bad="white"),
        vmin=float(maps.min()),
        vmax=float(maps.max()),
        interpolation="nearest",
    )
    axes[1].set_axis_off()
    shape = "×".join(str(s) for s in out.shape[2:]) or "1"
    axes[1].set_title(f"{layer}: {count} channels of {shape}", fontsize=8)
    fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.02)
    return write_png(fig, path)


def save_top_images(
    model: ModelLike,
    layer: str,
    channel: int,
    images: torch.Tensor,
    path: str | os.PathLike[str],
    k: int = 9,
    info: DatasetInfo | None = None,
    labels: torch.Tensor | None = None,
    batch: int = 256,
) -> Path:
    """The ``k`` images that excite ``channel`` of ``layer`` most, each with its index, score and
    (given ``labels``) class."""
    indices, scores = top_images(model, layer, channel, images, k=k, batch=batch)
    pixels = to_pixels(images.unsqueeze(0) if images.ndim == 3 else images, info)
    cols = math.ceil(math.sqrt(len(indices)))
    rows = math.ceil(len(indices) / cols)
    fig = _figure(1.3 * cols, 1.4 * rows + 0.4)
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for ax in axes:
        ax.set_axis_off()
    for ax, i, score in zip(axes, indices.tolist(), scores.tolist(), strict=False):
        title = f"#{i}  {score:.3g}"
        if labels is not None:
            title += f"\n{_name(info, int(labels[i]))}"
        _show(ax, pixels[i], title)
        ax.set_axis_on()
    fig.suptitle(f"{layer} channel {channel}: top {len(indices)}", fontsize=9)
    return write_png(fig, path)


def save_tsne(
    model: ModelLike,
    images: torch.Tensor,
    labels: torch.Tensor,
    path: str | os.PathLike[str],
    info: DatasetInfo | None = None,
    thumbnails: bool = True,
    max_points: int = 1000,
    seed: int = 0,
) -> Path:
    """A t-SNE map of the model's penultimate features: points coloured by class with a legend of
    class names, at most ``max_points`` of them (a seeded sample) and, with ``thumbnails``, small
    images on a seeded subset."""
    net = as_module(model)
    images = check_images(net, images)
    labels = torch.as_tensor(labels).long().cpu().flatten()
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    gen = torch.Generator().manual_seed(seed)
    if len(images) > max_points:
        keep = torch.randperm(len(images), generator=gen)[:max_points].sort().values
        images, labels = images[keep], labels[keep]
    xy = tsne(embed_features(net, images), seed=seed).numpy()
    classes = labels.unique().tolist()
    palette = colormaps["tab10" if max(classes) < 10 else "tab20"]
    fig = _figure(8, 7)
    ax = fig.add_subplot()
    for c in classes:
        at = (labels == c).numpy()
        ax.scatter(xy[at, 0], xy[at, 1], s=8, color=palette(c % palette.N), label=_name(info, c))
    if thumbnails:
        pixels = to_pixels(images, info)
        zoom = 20 / max(images.shape[2:])
        for i in torch.randperm(len(images), generator=gen)[:THUMBNAILS].tolist():
            thumb = OffsetImage(hwc(pixels[i]), zoom=zoom, cmap="gray", norm=Normalize(0, 1))
            box = AnnotationBbox(
                thumb,
                tuple(xy[i]),
                frameon=True,
                pad=0.1,
                bboxprops={"edgecolor": palette(int(labels[i]) % palette.N), "linewidth": 1},
            )
            ax.add_artist(box)
    ax.legend(
        fontsize=7,
        markerscale=2,
        title="class",
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"t-SNE of {type(net).__name__} features, {len(images)} images", fontsize=9)
    return write_png(fig, path)


def save_neighbours(
    model: ModelLike,
    queries: torch.Tensor,
    pool: torch.Tensor,
    path: str | os.PathLike[str],
    k: int = 5,
    info: DatasetInfo | None = None,
    pool_labels: torch.Tensor | None = None,
) -> Path:
    """One row per query: the query, its ``k`` nearest pool images in feature space, then in pixel
    space, each with its pool index, distance and (given ``pool_labels``) class."""
    net = as_module(model)
    queries = check_images(net, queries, "query images")
    found = neighbours(net, queries, pool, k=k)
    k = found["feature"].shape[1]
    query_px = to_pixels(queries, info)
    pool_px = to_pixels(check_images(net, pool, "pool images"), info)
    ratios = [1, 0.3] + [1] * k + [0.3] + [1] * k
    fig = _figure(0.9 * sum(ratios), 1.05 * len(queries) + 0.4)
    axes = fig.add_gridspec(len(queries), len(ratios), width_ratios=ratios).subplots(squeeze=False)
    for ax in axes.flatten():
        ax.set_axis_off()
    for q in range(len(queries)):
        row = axes[q]
        _show(row[0], query_px[q], "query" if q == 0 else "")
        row[0].set_axis_on()
        for s, space in enumerate(("feature", "pixel")):
            for j in range(k):
                i = int(found[space][q, j])
                ax = row[2 + s * (k + 1) + j]
                _show(ax, pool_px[i], f"{space} {j + 1}" if q == 0 else "")
                text = f"#{i} d={float(found[f'{space}_distance'][q, j]):.2g}"
                if pool_labels is not None:
                    text += f"\n{_name(info, int(pool_labels[i]))}"
                ax.set_xlabel(text, fontsize=5)
                ax.set_axis_on()
    fig.suptitle(f"nearest neighbours: {type(net).__name__} features vs pixels", fontsize=9)
    return write_png(fig, path)
