"""Checkerboard artefacts (Odena, Dumoulin & Olah 2016): a transposed convolution whose kernel
size is not a multiple of its stride paints some output pixels with more kernel taps than their
neighbours, a pattern that repeats with the stride. ``overlap`` counts the taps; ``artefact_score``
measures how much of an image's energy sits at the stride's frequencies."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def overlap(kernel: int, stride: int, inputs: int = 6) -> torch.Tensor:
    """How many kernel taps reach each output pixel of a 2-D transposed convolution (``inputs``
    × ``inputs`` ones in, an all-ones ``kernel`` × ``kernel`` kernel, ``stride``)."""
    if kernel < 1 or stride < 1 or inputs < 1:
        raise ValueError(
            f"kernel, stride and inputs must be >= 1, got {kernel}, {stride}, {inputs}"
        )
    ones = torch.ones(1, 1, inputs, inputs)
    taps = F.conv_transpose2d(ones, torch.ones(1, 1, kernel, kernel), stride=stride)
    return taps[0, 0].round().to(torch.int64)


def artefact_score(images: torch.Tensor, period: int) -> float:
    """The share of an image's variance at the frequencies a ``period``-periodic pattern lives on
    (``k · H/period`` × ``l · W/period``, the zero frequency excluded), averaged over a batch of
    ``(N, C, H, W)`` images (grey: the channel mean). A smooth natural image scores near 0; a
    pattern that repeats every ``period`` pixels scores 1."""
    if images.dim() != 4:
        raise ValueError(f"expected (N, C, H, W) images, got shape {tuple(images.shape)}")
    h, w = images.shape[-2:]
    if period < 2 or h % period or w % period:
        raise ValueError(f"image size {h}×{w} is not a multiple of the period {period}")
    grey = images.detach().float().mean(1)
    grey = grey - grey.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fft2(grey).abs().square()
    lattice = power[:, :: h // period, :: w // period].sum(dim=(1, 2))
    total = power.sum(dim=(1, 2)).clamp_min(1e-20)
    return float((lattice / total).mean())
