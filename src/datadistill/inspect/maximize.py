"""Activation maximisation (feature visualisation): the images that most excite a unit, a channel,
a layer or a class, found by gradient ascent on the input (Olah et al. 2017, after Lucid).

Images are held by a parametrisation (``pixel`` or the decorrelated ``fourier`` one), give pixels
in [0, 1] through a sigmoid, and are normalised with the dataset's mean/std before the network.
Each step transforms them at random (jitter, scale, rotation: Lucid's transformation robustness)
and may add regularisers: total variation, a blur every few steps (Yosinski et al. 2015), and a
diversity term that pushes the images of a batch apart. The network is left as it was.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from datadistill.atomic import save_figure
from datadistill.datasets.info import DatasetInfo
from datadistill.inspect.display import hwc
from datadistill.inspect.layers import last_conv, layer_of, recording
from datadistill.inspect.modelfile import TrainedModel, as_module, load_model
from datadistill.inspect.objectives import Objective, parse_objective
from datadistill.inspect.parametrization import (
    PARAMETRIZATIONS,
    Parametrization,
    PixelImage,
    gaussian_blur,
)

Model = nn.Module | TrainedModel | str | os.PathLike[str]


@dataclass
class Maximized:
    """The result of ``maximize``: ``images`` normalised (ready for the model, on its device),
    ``pixels`` the same in [0, 1]; ``history`` the batch's mean objective at each step (on that
    step's transformed images, without regularisers); ``values`` each final image's objective
    (untransformed); ``settings`` every setting used, for the record."""

    images: Tensor
    pixels: Tensor
    history: list[float]
    values: list[float]
    objective: Objective
    settings: dict[str, Any] = field(default_factory=dict)


def total_variation(pixels: Tensor) -> Tensor:
    """The mean absolute difference between neighbouring pixels (down plus across)."""
    down = (pixels[..., 1:, :] - pixels[..., :-1, :]).abs().mean()
    across = (pixels[..., :, 1:] - pixels[..., :, :-1]).abs().mean()
    return down + across


def gram_similarity(output: Tensor) -> Tensor:
    """The mean cosine similarity between the Gram matrices (channel × channel, over positions) of
    each pair of images in a batch of layer outputs: Lucid's ``diversity``, per pair."""
    n = output.shape[0]
    if n < 2:
        raise ValueError("the diversity term needs a batch of at least 2 images")
    f = output.reshape(n, output.shape[1], -1)
    grams = F.normalize((f @ f.transpose(1, 2)).flatten(1), dim=1)
    sim = grams @ grams.T
    return (sim.sum() - sim.diagonal().sum()) / (n * (n - 1))


def random_transform(
    pixels: Tensor, generator: torch.Generator, jitter: int, scale: float, rotate: float
) -> Tensor:
    """Each image shifted by up to ``jitter`` pixels, zoomed by a factor in ``1 ± scale`` and
    rotated by up to ``rotate`` degrees, all drawn from ``generator`` (reflected at the borders)."""
    if not (jitter or scale or rotate):
        return pixels
    n, _, h, w = pixels.shape
    u = torch.rand((n, 2), generator=generator, dtype=torch.float64)
    shift = torch.randint(-jitter, jitter + 1, (n, 2), generator=generator).double()
    zoom = 1 + scale * (2 * u[:, 0] - 1)
    angle = math.radians(rotate) * (2 * u[:, 1] - 1)
    cos, sin = angle.cos() / zoom, angle.sin() / zoom
    theta = torch.zeros((n, 2, 3), dtype=torch.float64)
    # The rotation in pixel units, expressed in affine_grid's [-1, 1] coordinates.
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2] = cos, -sin * h / w, 2 * shift[:, 0] / w
    theta[:, 1, 0], theta[:, 1, 1], theta[:, 1, 2] = sin * w / h, cos, 2 * shift[:, 1] / h
    grid = F.affine_grid(theta.to(pixels), list(pixels.shape), align_corners=False)
    return F.grid_sample(pixels, grid, padding_mode="reflection", align_corners=False)


def _channels(module: nn.Module, info: DatasetInfo | None, mean: Sequence[float] | None) -> int:
    """The images' channels: from ``info``, else ``mean``, else the first convolution."""
    if info is not None:
        return info.channels
    if mean is not None:
        return len(mean)
    first = next((m for m in module.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        raise ValueError("give info= (or mean=/std=) to say how many channels the images have")
    return first.in_channels


def _size(size: int | tuple[int, int] | None, info: DatasetInfo | None) -> tuple[int, int]:
    """The images' (height, width): ``size`` (an int for a square), else ``info.size``."""
    if size is None:
        if info is None:
            raise ValueError("give size= (or info=) for the images' height and width")
        return info.size
    h, w = (size, size) if isinstance(size, int) else size
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {size}")
    return h, w


def _check_settings(s: dict[str, Any]) -> None:
    """A one-line ``ValueError`` for a setting out of its range, before any work."""
    if s["param"] not in PARAMETRIZATIONS:
        raise ValueError(f"param must be one of {list(PARAMETRIZATIONS)}, got {s['param']!r}")
    if s["batch"] < 1 or s["steps"] < 0 or s["lr"] <= 0:
        raise ValueError("maximize needs batch >= 1, steps >= 0 and lr > 0")
    for name in ("tv", "blur_every", "blur_sigma", "jitter", "rotate", "diversity"):
        if s[name] < 0:
            raise ValueError(f"{name} must be >= 0, got {s[name]}")
    if not 0 <= s["scale"] < 1:
        raise ValueError(f"scale must be in [0, 1), got {s['scale']}")
    if s["blur_every"] and s["param"] != "pixel":
        raise ValueError(
            "blur_every applies to param='pixel' (fourier already damps high frequencies)"
        )
    if s["diversity"] and s["batch"] < 2:
        raise ValueError("the diversity term needs batch >= 2")


def maximize(
    model: Model,
    objective: Objective | str,
    *,
    info: DatasetInfo | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    batch: int = 1,
    steps: int = 256,
    lr: float = 0.05,
    param: str = "fourier",
    decorrelate: bool = True,
    size: int | tuple[int, int] | None = None,
    tv: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    jitter: int | None = None,
    scale: float = 0.1,
    rotate: float = 10.0,
    diversity: float = 0.0,
    diversity_layer: str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> Maximized:
    """Find ``batch`` images that maximise ``objective`` (an ``Objective`` or its string form) by
    ``steps`` of Adam at ``lr`` on the ``param`` parametrisation (``"fourier"`` or ``"pixel"``).

    ``info`` (taken from a model file or ``TrainedModel`` when not given) sets the image shape and
    the normalisation; ``mean``/``std`` override it (default 0 and 1) and ``size`` the height and
    width. ``decorrelate`` mixes RGB channels with Lucid's colour correlation. Regularisers, with
    Lucid's defaults where it has one: ``tv`` weighs total variation (off); ``blur_every`` blurs
    the pixel image by a Gaussian of ``blur_sigma`` every that many steps (off; pixel only);
    ``jitter`` shifts by up to that many pixels (default ``max(1, min(h, w) // 16)``, Lucid's 8 at
    128 px), ``scale`` zooms by ``1 ± scale`` (0.1) and ``rotate`` turns by up to that many
    degrees (10) at each step; ``diversity`` weighs the mean Gram-matrix cosine similarity between
    the batch's images at ``diversity_layer`` (the objective's first layer, else the last conv),
    which the ascent lowers (off). Every random draw comes from a generator seeded by ``seed``.
    """
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    if isinstance(model, TrainedModel):
        info = info if info is not None else model.info
        model = model.model
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a model file, TrainedModel or nn.Module, got {type(model)}")
    was_training = model.training
    module = as_module(model)
    if isinstance(objective, str):
        objective = parse_objective(objective, module)
    for name in objective.layers():
        layer_of(module, name)
    h, w = _size(size, info)
    c = _channels(module, info, mean)
    mean = mean if mean is not None else (info.mean if info is not None else (0.0,) * c)
    std = std if std is not None else (info.std if info is not None else (1.0,) * c)
    if len(mean) != c or len(std) != c:
        raise ValueError(f"mean and std need one value per channel ({c})")
    if jitter is None:
        jitter = max(1, min(h, w) // 16)
    if diversity and diversity_layer is None:
        diversity_layer = objective.layers()[0] if objective.layers() else last_conv(module)
    settings: dict[str, Any] = {
        "objective": str(objective),
        "param": param,
        "decorrelate": decorrelate and c == 3,
        "batch": batch,
        "steps": steps,
        "lr": lr,
        "size": (h, w),
        "mean": tuple(mean),
        "std": tuple(std),
        "tv": tv,
        "blur_every": blur_every,
        "blur_sigma": blur_sigma,
        "jitter": jitter,
        "scale": scale,
        "rotate": rotate,
        "diversity": diversity,
        "diversity_layer": diversity_layer if diversity else None,
        "seed": seed,
    }
    _check_settings(settings)

    device = next(module.parameters(), torch.empty(0)).device
    generator = torch.Generator().manual_seed(seed)
    image: Parametrization = PARAMETRIZATIONS[param](
        (batch, c, h, w), generator, decorrelate=decorrelate
    ).to(device)
    mean_t = torch.tensor(mean, device=device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, device=device).view(1, -1, 1, 1)
    layers = tuple(dict.fromkeys((*objective.layers(), *([diversity_layer] if diversity else []))))
    flags = [(p, p.requires_grad) for p in module.parameters()]
    history: list[float] = []
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        with ExitStack() as stack:
            records = {name: stack.enter_context(recording(module, name)) for name in layers}

            def forward(pixels: Tensor) -> tuple[dict[str, Tensor], Tensor]:
                logits = module((pixels - mean_t) / std_t)
                return {name: out["output"] for name, out in records.items()}, logits

            with torch.no_grad():
                objective.check(*forward(image.pixels()))
            optimizer = torch.optim.Adam(image.parameters(), lr=lr)
            bar = tqdm(range(steps), desc="maximize", leave=False, disable=not progress)
            for step in bar:
                pixels = image.pixels()
                seen = random_transform(pixels, generator, jitter, scale, rotate)
                acts, logits = forward(seen)
                value = objective.values(acts, logits).mean()
                loss = -value
                if tv:
                    loss = loss + tv * total_variation(pixels)
                if diversity:
                    loss = loss + diversity * gram_similarity(acts[diversity_layer])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                history.append(value.item())
                bar.set_postfix(objective=f"{history[-1]:.4g}", refresh=False)
                if blur_every and (step + 1) % blur_every == 0 and isinstance(image, PixelImage):
                    image.set_pixels(gaussian_blur(image.pixels().detach(), blur_sigma))
            with torch.no_grad():
                pixels = image.pixels()
                values = objective.values(*forward(pixels))
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)
    return Maximized(
        images=((pixels - mean_t) / std_t).detach(),
        pixels=pixels.detach(),
        history=history,
        values=values.tolist(),
        objective=objective,
        settings=settings,
    )


def save_maximized(
    result: Maximized, path: str | os.PathLike[str], titles: Sequence[str] | None = None
) -> Path:
    """Write a PNG: the batch's images in a grid (titled by ``titles``, else by each image's
    objective value) above a curve of the objective at each step; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pixels = result.pixels.detach().float().cpu()
    n = pixels.shape[0]
    if titles is not None and len(titles) != n:
        raise ValueError(f"{len(titles)} titles for {n} images")
    titles = titles if titles is not None else [f"{v:.3g}" for v in result.values]
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    fig = plt.figure(figsize=(max(3.0, 1.3 * cols), 1.4 * rows + 1.6))
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.0] * rows + [1.0])
    for i in range(n):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        ax.imshow(hwc(pixels[i]), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(titles[i], fontsize=7)
        ax.set_axis_off()
    curve = fig.add_subplot(grid[rows, :])
    curve.plot(range(1, len(result.history) + 1), result.history, linewidth=1)
    curve.set_xlabel("step", fontsize=7)
    curve.set_ylabel("objective", fontsize=7)
    curve.tick_params(labelsize=6)
    fig.suptitle(str(result.objective), fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=150, tight=False)
