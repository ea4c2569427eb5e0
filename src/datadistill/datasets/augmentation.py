"""Augmentations with replayable parameters: ``params = aug.sample(n, gen)``, ``aug.apply(x, params)``.

Parameters are drawn from an explicit CPU ``torch.Generator`` (never the global RNG), so the same
draw can be applied to a real and a synthetic batch (DSA's siamese augmentation) and a run is
reproducible on any device. Every ``apply`` is differentiable in ``x``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from datadistill.registry import Registry

Params = dict[str, Any]


class Augmentation(Protocol):
    def sample(self, n: int, generator: torch.Generator) -> Params: ...

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor: ...


AUGMENTATIONS: Registry[type] = Registry("augmentation")


def augment(aug: Augmentation, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Sample fresh parameters for ``x`` and apply them."""
    return aug.apply(x, aug.sample(x.shape[0], generator))


def _affine(x: torch.Tensor, theta: torch.Tensor, fill: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Per-sample affine warp (``theta`` is (n, 2, 3)) with a constant fill outside the image."""
    theta = theta.to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    if isinstance(fill, torch.Tensor):
        fill = fill.to(device=x.device, dtype=x.dtype)
    return F.grid_sample(x - fill, grid, align_corners=True) + fill


def _scale_theta(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    z = torch.zeros_like(sx)
    return torch.stack([torch.stack([sx, z, z], 1), torch.stack([z, sy, z], 1)], 1)


def _rotate_theta(angle: torch.Tensor) -> torch.Tensor:
    c, s, z = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)
    return torch.stack([torch.stack([c, -s, z], 1), torch.stack([s, c, z], 1)], 1)


def _translate(x: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Integer translation with zero fill (DSA's crop: pad by one zero pixel, clamp, gather)."""
    n, _, h, w = x.shape
    dev = x.device
    gx = torch.arange(h, device=dev).view(1, h, 1) + dx.to(dev).view(n, 1, 1) + 1
    gy = torch.arange(w, device=dev).view(1, 1, w) + dy.to(dev).view(n, 1, 1) + 1
    gx, gy = gx.clamp(0, h + 1).expand(n, h, w), gy.clamp(0, w + 1).expand(n, h, w)
    gb = torch.arange(n, device=dev).view(n, 1, 1).expand(n, h, w)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[gb, gx, gy].permute(0, 3, 1, 2)


@AUGMENTATIONS.register("none")
class NoAugmentation:
    def sample(self, n: int, generator: torch.Generator) -> Params:
        return {}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return x


@AUGMENTATIONS.register("dsa")
@dataclass
class DSA:
    """Differentiable siamese augmentation (Zhao & Bilen 2021), its default 'S' mode.

    One strategy is drawn per call (``color`` applies brightness, saturation and contrast) with
    per-sample parameters; the constants are the paper's.
    """

    strategy: str = "color_crop_cutout_flip_scale_rotate"
    brightness: float = 1.0
    saturation: float = 2.0
    contrast: float = 0.5
    ratio_crop_pad: float = 0.125
    ratio_cutout: float = 0.5
    ratio_scale: float = 1.2
    ratio_rotate: float = 15.0
    prob_flip: float = 0.5

    def __post_init__(self) -> None:
        self.ops = [op for op in self.strategy.split("_") if op]
        unknown = set(self.ops) - {"color", "crop", "cutout", "flip", "scale", "rotate"}
        if unknown:
            raise ValueError(f"unknown DSA operation(s) {sorted(unknown)} in {self.strategy!r}")

    def without_flip(self) -> DSA:
        ops = "_".join(op for op in self.ops if op != "flip")
        return DSA(ops, **{k: v for k, v in self.__dict__.items() if k not in ("strategy", "ops")})

    def sample(
        self, n: int, generator: torch.Generator, size: tuple[int, int] | None = None
    ) -> Params:
        if not self.ops:
            return {"op": "none"}
        op = self.ops[int(torch.randint(len(self.ops), (1,), generator=generator))]
        r = lambda: torch.rand(n, generator=generator)  # noqa: E731
        if op == "color":
            return {"op": op, "b": r(), "s": r(), "c": r()}
        if op == "scale":
            lo = 1.0 / self.ratio_scale
            return {
                "op": op,
                "sx": r() * (self.ratio_scale - lo) + lo,
                "sy": r() * (self.ratio_scale - lo) + lo,
            }
        if op == "rotate":
            return {"op": op, "angle": (r() - 0.5) * 2 * self.ratio_rotate / 180 * math.pi}
        if op == "flip":
            return {"op": op, "flip": r() < self.prob_flip}
        # crop and cutout need offsets in pixels: draw them as fractions, resolve at apply time
        return {"op": op, "u": r(), "v": r()}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        op = params["op"]
        n = x.shape[0]
        take = lambda key: params[key][:n].to(x.device, x.dtype).view(n, 1, 1, 1)  # noqa: E731
        if op == "none":
            return x
        if op == "color":
            x = x + (take("b") - 0.5) * self.brightness
            m = x.mean(dim=1, keepdim=True)
            x = (x - m) * (take("s") * self.saturation) + m
            m = x.mean(dim=[1, 2, 3], keepdim=True)
            return (x - m) * (take("c") + self.contrast) + m
        if op == "scale":
            return _affine(x, _scale_theta(params["sx"][:n], params["sy"][:n]))
        if op == "rotate":
            return _affine(x, _rotate_theta(params["angle"][:n]))
        if op == "flip":
            return torch.where(params["flip"][:n].to(x.device).view(n, 1, 1, 1), x.flip(3), x)
        h, w = x.shape[2], x.shape[3]
        u, v = params["u"][:n], params["v"][:n]
        if op == "crop":
            sh, sw = int(h * self.ratio_crop_pad + 0.5), int(w * self.ratio_crop_pad + 0.5)
            dx = (u * (2 * sh + 1)).long().clamp_max(2 * sh) - sh
            dy = (v * (2 * sw + 1)).long().clamp_max(2 * sw) - sw
            return _translate(x, dx, dy)
        ch, cw = int(h * self.ratio_cutout + 0.5), int(w * self.ratio_cutout + 0.5)
        ox = (u * (h + 1 - ch % 2)).long().clamp_max(h - ch % 2)
        oy = (v * (w + 1 - cw % 2)).long().clamp_max(w - cw % 2)
        rows = torch.arange(h).view(1, h, 1)
        cols = torch.arange(w).view(1, 1, w)
        x0 = (ox - ch // 2).view(n, 1, 1)
        y0 = (oy - cw // 2).view(n, 1, 1)
        inside = (rows >= x0) & (rows < x0 + ch) & (cols >= y0) & (cols < y0 + cw)
        return x * (~inside).to(x.device, x.dtype).unsqueeze(1)


@AUGMENTATIONS.register("dc")
@dataclass
class DCAugment:
    """The DC code's evaluation augmentation (used there for MNIST): one of crop, scale, rotate or
    noise per image. Crop pads with the batch's channel mean, scale with zeros, rotate with the
    mean of the channel means, as the reference does; rotation is bilinear (the reference uses
    scipy's cubic spline, per image, on the CPU)."""

    strategy: str = "crop_scale_rotate_noise"
    crop: int = 4
    scale: float = 0.2
    rotate: int = 45
    noise: float = 0.001

    def __post_init__(self) -> None:
        self.ops = [op for op in self.strategy.split("_") if op]
        unknown = set(self.ops) - {"crop", "scale", "rotate", "noise"}
        if unknown:
            raise ValueError(f"unknown DC augmentation(s) {sorted(unknown)} in {self.strategy!r}")

    def sample(self, n: int, generator: torch.Generator) -> Params:
        g = generator
        return {
            "choice": torch.randint(len(self.ops), (n,), generator=g),
            "shift": torch.randint(2 * self.crop, (n, 2), generator=g) - self.crop,
            "factor": 1 + (torch.rand(n, 2, generator=g) * 2 - 1) * self.scale,
            "angle": torch.randint(-self.rotate, self.rotate, (n,), generator=g).float(),
            "noise_seed": int(torch.randint(2**31 - 1, (1,), generator=g)),
        }

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        n, c, h, w = x.shape
        op = [self.ops[int(i)] for i in params["choice"][:n]]
        is_op = lambda name: torch.tensor([o == name for o in op])  # noqa: E731
        theta = torch.eye(2, 3).repeat(n, 1, 1)
        channel_mean = x.detach().mean(dim=(0, 2, 3)).view(1, c, 1, 1)
        fill = torch.zeros(n, c, 1, 1, device=x.device, dtype=x.dtype)
        crop, scale, rot = is_op("crop"), is_op("scale"), is_op("rotate")
        shift = params["shift"][:n].float()
        theta[crop, 0, 2] = -2 * shift[crop, 1] / (w - 1)
        theta[crop, 1, 2] = -2 * shift[crop, 0] / (h - 1)
        fill[crop.to(x.device)] = channel_mean.expand(n, c, 1, 1)[crop.to(x.device)]
        sizes = (params["factor"][:n] * h).floor()
        theta[scale, 0, 0] = w / sizes[scale, 1]
        theta[scale, 1, 1] = h / sizes[scale, 0]
        rad = params["angle"][:n] * math.pi / 180
        theta[rot] = _rotate_theta(rad[rot])
        fill[rot.to(x.device)] = channel_mean.mean()
        out = _affine(x, theta, fill)
        noisy = is_op("noise")
        if noisy.any():
            g = torch.Generator().manual_seed(params["noise_seed"])
            eps = torch.randn(x.shape, generator=g).to(x.device, x.dtype)
            out = out + self.noise * eps * noisy.to(x.device, x.dtype).view(n, 1, 1, 1)
        return out


def create_augmentation(name: str, flip: bool = True, **kwargs: Any) -> Augmentation:
    """Build a registered augmentation; ``flip=False`` drops DSA's flip (digits, characters)."""
    aug = AUGMENTATIONS.get(name)(**kwargs)
    if isinstance(aug, DSA) and not flip:
        aug = aug.without_flip()
    return aug
