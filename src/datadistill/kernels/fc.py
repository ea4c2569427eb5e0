"""``fc-nngp`` and ``fc-ntk``: the infinite-width kernels of a fully connected ReLU network.

The network (NTK parametrisation) has ``depth`` hidden layers and a linear readout, each layer
``h = √(w_var / fan_in) · W a + √b_var · b`` with W, b ~ N(0, 1), on the flattened input.
Hence Σ¹(x, x') = w_var · x·x' / d + b_var, then the arc-cosine recursion of
:mod:`datadistill.kernels.recursion` (Cho & Saul 2009; Lee et al. 2018 for the NNGP; Jacot et al.
2018 and Arora et al. 2019 for Θ^{l+1} = Σ^{l+1} + Θ^l · Σ̇^{l+1}) through ``depth`` layers;
the readout uses the same ``w_var`` and ``b_var``. Cost: one (n1, d) × (d, n2) product, then
O(depth · n1 · n2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor

from datadistill.kernels.base import KERNELS, Kernel
from datadistill.kernels.recursion import (
    pair_variances,
    propagate,
    propagate_self,
    same_variances,
)
from datadistill.settings import at_least, positive


def _identity(t: Tensor) -> Tensor:
    return t


@dataclass
class FCKernel(Kernel):
    """A fully connected ReLU network's NNGP or NTK (see the module docstring)."""

    ntk: ClassVar[bool] = False

    depth: int = 3
    w_var: float = 2.0
    b_var: float = 0.01

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, 1, "depth")
        positive(self, "w_var", "b_var")

    def prepare(self, x: Tensor) -> Tensor:
        """Any batch (N, ...) flattened to (N, d), cast to ``dtype``."""
        if x.ndim < 2:
            raise ValueError(f"{self.name}: expected a batch (N, ...), got shape {tuple(x.shape)}")
        return x.flatten(1).to(self.torch_dtype)

    def _first(self, products: Tensor, d: int) -> Tensor:
        return self.w_var * products / d + self.b_var

    def block(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        d = a.shape[1]
        layers = [_identity] * self.depth
        if same:
            variances = same_variances
        else:
            _, hidden_a = propagate_self(
                self._first(a.pow(2).sum(1), d), layers, self.w_var, self.b_var, False
            )
            _, hidden_b = propagate_self(
                self._first(b.pow(2).sum(1), d), layers, self.w_var, self.b_var, False
            )
            variances = pair_variances(hidden_a, hidden_b)
        sigma = self._first(a @ b.T, d)
        return propagate(sigma, variances, layers, self.w_var, self.b_var, self.ntk)

    def block_diag(self, x: Tensor) -> Tensor:
        sigma = self._first(x.pow(2).sum(1), x.shape[1])
        layers = [_identity] * self.depth
        return propagate_self(sigma, layers, self.w_var, self.b_var, self.ntk)[0]


@KERNELS.register("fc-nngp")
@dataclass
class FCNNGP(FCKernel):
    """The NNGP of a fully connected ReLU network (Lee et al. 2018)."""

    name: ClassVar[str] = "fc-nngp"


@KERNELS.register("fc-ntk")
@dataclass
class FCNTK(FCKernel):
    """The NTK of a fully connected ReLU network (Jacot et al. 2018)."""

    name: ClassVar[str] = "fc-ntk"
    ntk: ClassVar[bool] = True
