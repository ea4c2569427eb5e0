"""How activation maximisation holds its images: as pixels directly, or as a scaled Fourier
spectrum whose low frequencies move first (Lucid's decorrelated parametrisation, Olah et al.
2017). Both give pixels in [0, 1] through a sigmoid, with RGB colours optionally decorrelated."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Lucid's square root of the ImageNet colour correlation, its columns scaled to norm <= 1.
_COLOUR = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOUR_CORRELATION = _COLOUR / _COLOUR.norm(dim=0).max()


class Parametrization:
    """A batch of images ``(N, C, H, W)`` held by learnable tensors; ``pixels()`` is the image in
    [0, 1]. Subclasses give ``raw()``, the image before colour mixing and sigmoid."""

    def __init__(self, shape: tuple[int, int, int, int], decorrelate: bool = True) -> None:
        self.shape = shape
        self.decorrelate = decorrelate and shape[1] == 3

    def parameters(self) -> list[Tensor]:
        raise NotImplementedError

    def raw(self) -> Tensor:
        raise NotImplementedError

    def pixels(self) -> Tensor:
        t = self.raw()
        if self.decorrelate:
            t = torch.einsum("dc,nchw->ndhw", COLOUR_CORRELATION.to(t), t)
        return torch.sigmoid(t)

    def to(self, device: torch.device | str) -> Parametrization:
        """Move the learnable tensors (and any constants) to ``device``."""
        raise NotImplementedError


class PixelImage(Parametrization):
    """Each pixel (before the sigmoid) is a parameter, drawn near zero (a grey start)."""

    def __init__(
        self,
        shape: tuple[int, int, int, int],
        generator: torch.Generator,
        sd: float = 0.01,
        decorrelate: bool = True,
    ) -> None:
        super().__init__(shape, decorrelate)
        self.logits = (torch.randn(shape, generator=generator) * sd).requires_grad_()

    def parameters(self) -> list[Tensor]:
        return [self.logits]

    def raw(self) -> Tensor:
        return self.logits

    def set_pixels(self, pixels: Tensor) -> None:
        """Make ``pixels()`` equal ``pixels`` (clipped just inside (0, 1)), e.g. after a blur."""
        with torch.no_grad():
            t = torch.logit(pixels.clamp(1e-4, 1 - 1e-4))
            if self.decorrelate:
                inverse = torch.linalg.inv(COLOUR_CORRELATION).to(t)
                t = torch.einsum("dc,nchw->ndhw", inverse, t)
            self.logits.copy_(t)

    def to(self, device: torch.device | str) -> PixelImage:
        self.logits = self.logits.detach().to(device).requires_grad_()
        return self


def frequencies(h: int, w: int) -> Tensor:
    """``|f|`` of each coefficient of a real 2-D FFT of an ``h`` × ``w`` image, ``(h, w//2+1)``."""
    fy = torch.fft.fftfreq(h).view(-1, 1)
    fx = torch.fft.rfftfreq(w).view(1, -1)
    return torch.sqrt(fx * fx + fy * fy)


class FourierImage(Parametrization):
    """The image is the inverse real FFT of a learnt spectrum scaled by ``1 / f**decay_power``
    (frequencies below ``1/max(h, w)`` count as that), so that each frequency gets a gradient step
    in proportion to natural images' spectrum: less high-frequency noise (Lucid's ``fft_image``)."""

    def __init__(
        self,
        shape: tuple[int, int, int, int],
        generator: torch.Generator,
        sd: float = 0.01,
        decay_power: float = 1.0,
        decorrelate: bool = True,
    ) -> None:
        super().__init__(shape, decorrelate)
        n, c, h, w = shape
        freqs = frequencies(h, w)
        self.scale = 1.0 / freqs.clamp_min(1.0 / max(h, w)) ** decay_power
        self.spectrum = (
            torch.randn((n, c, *freqs.shape, 2), generator=generator) * sd
        ).requires_grad_()

    def parameters(self) -> list[Tensor]:
        return [self.spectrum]

    def raw(self) -> Tensor:
        h, w = self.shape[-2:]
        spectrum = torch.view_as_complex(self.spectrum) * self.scale
        # Lucid's inverse FFT is unnormalised times sqrt(h w): the orthonormal one; / 4 is Lucid's.
        return torch.fft.irfft2(spectrum, s=(h, w), norm="ortho") / 4.0

    def to(self, device: torch.device | str) -> FourierImage:
        self.spectrum = self.spectrum.detach().to(device).requires_grad_()
        self.scale = self.scale.to(device)
        return self


PARAMETRIZATIONS = {"pixel": PixelImage, "fourier": FourierImage}


def gaussian_blur(pixels: Tensor, sigma: float) -> Tensor:
    """Each channel blurred by a Gaussian of ``sigma`` pixels (edge pixels repeated at the borders)."""
    if sigma <= 0:
        return pixels
    radius = max(1, math.ceil(2 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=pixels.dtype, device=pixels.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = pixels.shape[1]
    out = F.pad(pixels, (radius, radius, 0, 0), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    out = F.pad(out, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
