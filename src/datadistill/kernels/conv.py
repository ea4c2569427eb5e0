"""``conv-nngp`` and ``conv-ntk``: the infinite-width kernels of a ReLU ConvNet.

The network (NTK parametrisation) has ``depth`` 3×3 same-padding convolutions (stride 1, no
pooling), each ``h = √(w_var / (9 C_in)) · W * a + √b_var · b`` with W, b ~ N(0, 1), and a
linear readout with the same variances (Novak et al. 2019; Arora et al. 2019, CNTK).

``readout="flatten"`` (default) reads the flattened last feature map. Then only same-position
pixel pairs are needed: per-position tensors (n1, n2, H, W), each layer averaging the 3×3
neighbourhood (zero padding) of the previous layer's arc-cosine terms, the readout averaging over
positions. Cost: O(depth · n1 · n2 · H · W) time and memory per block. Measured on one CPU
thread, 100 × 1000 images of 28×28, depth 3: conv-ntk 7.0 s in float64 (2.6 s in float32),
conv-nngp 5.9 s (2.2 s). ``chunk`` (default 64 images a side, fastest on a CPU; raise it on a GPU)
bounds the block; under autograd each block is checkpointed and recomputed in the backward pass,
so autograd holds one block's state at a time (about 1 GB for a 64 × 64 block of 28×28 images).

``readout="gap"`` (global average pooling) needs every pair of positions, (n1, n2, HW, HW):
O(depth · n1 · n2 · (HW)²) time and memory, HW times the flatten cost (100 × 100 images of 8×8,
depth 3: 4.2 s against 0.07 s), practical for small images and a small ``chunk`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from datadistill.kernels.base import KERNELS, Kernel
from datadistill.kernels.recursion import (
    Linear,
    Variances,
    pair_variances,
    propagate,
    propagate_self,
    same_variances,
)
from datadistill.settings import at_least, one_of, positive

READOUTS = ("flatten", "gap")


def patch_mean(t: Tensor) -> Tensor:
    """Mean over the 3×3 neighbourhood (zero padding, divided by 9) of the last two dims;
    separable sums of shifted slices (twice as fast as ``avg_pool2d`` on a CPU)."""
    p = F.pad(t, (1, 1, 1, 1))
    rows = p[..., :-2, :] + p[..., 1:-1, :] + p[..., 2:, :]
    return (rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]) / 9


def position_mean(t: Tensor) -> Tensor:
    """Mean over the last two dims (the flatten readout of same-position pairs)."""
    return t.mean((-2, -1))


def _shift_mean(t: Tensor, d1: int, d2: int) -> Tensor:
    """Mean of ``t`` shifted by -1, 0, 1 along dims ``d1`` and ``d2`` together (zero padding)."""
    n = t.shape[d1]
    pad = [0, 0] * t.ndim
    for d in (d1, d2):
        pad[2 * (t.ndim - 1 - d)] = pad[2 * (t.ndim - 1 - d) + 1] = 1
    p = F.pad(t, pad)
    total = 0
    for s in range(3):
        total = total + p.narrow(d1, s, n).narrow(d2, s, n)
    return total / 3


def pair_patch_mean(t: Tensor) -> Tensor:
    """The 3×3 patch mean for position pairs (..., H, W, H, W): both positions shift together."""
    return _shift_mean(_shift_mean(t, t.ndim - 4, t.ndim - 2), t.ndim - 3, t.ndim - 1)


def pair_position_mean(t: Tensor) -> Tensor:
    """Mean over all position pairs (the global-average-pooling readout)."""
    return t.mean((-4, -3, -2, -1))


@dataclass
class ConvKernel(Kernel):
    """A ReLU ConvNet's NNGP or NTK (see the module docstring)."""

    ntk: ClassVar[bool] = False
    recompute: ClassVar[bool] = True

    depth: int = 3
    w_var: float = 2.0
    b_var: float = 0.01
    readout: Literal["flatten", "gap"] = "flatten"
    chunk: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, 1, "depth")
        positive(self, "w_var", "b_var")
        one_of(self, "readout", READOUTS)

    def _hidden(self, x: Tensor) -> list[Tensor]:
        """Each image's same-position variances (n, H, W) before each layer."""
        sigma = self.w_var * patch_mean(x.pow(2).mean(1)) + self.b_var
        layers = [patch_mean] * self.depth
        return propagate_self(sigma, layers, self.w_var, self.b_var, False)[1]

    def block(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        if self.readout == "gap":
            return self._block_gap(a, b, same)
        variances = same_variances if same else pair_variances(self._hidden(a), self._hidden(b))
        products = torch.einsum("achw,bchw->abhw", a, b) / a.shape[1]
        sigma = self.w_var * patch_mean(products) + self.b_var
        layers = [*[patch_mean] * (self.depth - 1), position_mean]
        return propagate(sigma, variances, layers, self.w_var, self.b_var, self.ntk)

    def _block_gap(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        variances: Variances
        if same:

            def variances(depth: int, sigma: Tensor) -> tuple[Tensor, Tensor]:
                d = _position_diagonal(torch.diagonal(sigma, 0, 0, 1).movedim(-1, 0))
                return d[:, None, :, :, None, None], d[None, :, None, None, :, :]

        else:
            ha, hb = self._hidden(a), self._hidden(b)

            def variances(depth: int, sigma: Tensor) -> tuple[Tensor, Tensor]:
                return ha[depth][:, None, :, :, None, None], hb[depth][None, :, None, None, :, :]

        products = torch.einsum("achw,bcij->abhwij", a, b) / a.shape[1]
        sigma = self.w_var * pair_patch_mean(products) + self.b_var
        return propagate(sigma, variances, self._gap_layers(), self.w_var, self.b_var, self.ntk)

    def _gap_layers(self) -> list[Linear]:
        return [*[pair_patch_mean] * (self.depth - 1), pair_position_mean]

    def block_diag(self, x: Tensor) -> Tensor:
        if self.readout == "gap":

            def variances(depth: int, sigma: Tensor) -> tuple[Tensor, Tensor]:
                d = _position_diagonal(sigma)
                return d[:, :, :, None, None], d[:, None, None, :, :]

            products = torch.einsum("nchw,ncij->nhwij", x, x) / x.shape[1]
            sigma = self.w_var * pair_patch_mean(products) + self.b_var
            layers = self._gap_layers()
            return propagate(sigma, variances, layers, self.w_var, self.b_var, self.ntk)
        sigma = self.w_var * patch_mean(x.pow(2).mean(1)) + self.b_var
        layers = [*[patch_mean] * (self.depth - 1), position_mean]
        return propagate_self(sigma, layers, self.w_var, self.b_var, self.ntk)[0]


def _position_diagonal(t: Tensor) -> Tensor:
    """The same-position entries (n, H, W) of position pairs (n, H, W, H, W)."""
    n, h, w = t.shape[:3]
    return torch.diagonal(t.reshape(n, h * w, h * w), 0, 1, 2).reshape(n, h, w)


@KERNELS.register("conv-nngp")
@dataclass
class ConvNNGP(ConvKernel):
    """The NNGP of a ReLU ConvNet (Novak et al. 2019)."""

    name: ClassVar[str] = "conv-nngp"


@KERNELS.register("conv-ntk")
@dataclass
class ConvNTK(ConvKernel):
    """The NTK of a ReLU ConvNet (Arora et al. 2019, CNTK)."""

    name: ClassVar[str] = "conv-ntk"
    ntk: ClassVar[bool] = True
