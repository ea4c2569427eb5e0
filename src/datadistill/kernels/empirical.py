"""``empirical-ntk`` and ``empirical-nngp``: the finite-width kernels of a zoo model at a seeded
initialisation.

The empirical NTK is the trace NTK over the logits,
Θ(x1, x2) = (1/K) Σ_k Σ_p ∂f_k(x1)/∂p · ∂f_k(x2)/∂p, from per-example Jacobians over the
parameters (``torch.func.jacrev`` vmapped over the images; Jacot et al. 2018, Novak et al.
2022). Memory stays at two (chunk, K, P) Jacobians: the smaller set's chunks are computed once,
the larger set's once per chunk of the smaller, n_small + ⌈n_small / chunk⌉ · n_large image
Jacobians (K backward passes each) in all.

The empirical NNGP is the inner product of the penultimate features (the model's ``embed``)
divided by their number, φ(x1)·φ(x2) / D: the readout's covariance at this initialisation for
unit-variance readout weights (Lee et al. 2018), not an average over seeds.

The model runs in eval mode (batch norm uses its running statistics, so each image's row is its
own), in ``dtype`` (float32 by default: these are sums over many parameters, not recursions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev, vmap

from datadistill.datasets.info import DatasetInfo
from datadistill.kernels.base import KERNELS, Kernel, blockwise
from datadistill.models.factory import create_seeded_model
from datadistill.settings import SettingError


def _jacobian(model: nn.Module, x: Tensor) -> Tensor:
    """Per-example Jacobians of the logits over all parameters, (n, K, P): ``jacrev`` of one
    image's logits, vmapped over the images (K backward passes per image, not per batch)."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def logits(p: dict[str, Tensor], xi: Tensor) -> Tensor:
        return functional_call(model, (p, buffers), (xi.unsqueeze(0),)).squeeze(0)

    jac = vmap(jacrev(logits), in_dims=(None, 0))(params, x)
    n, k = x.shape[0], next(iter(jac.values())).shape[1]
    return torch.cat([j.reshape(n, k, -1) for j in jac.values()], dim=2)


def empirical_ntk(model: nn.Module, x1: Tensor, x2: Tensor, same: bool = False) -> Tensor:
    """The trace NTK (1/K) Σ_k J_k(x1) J_k(x2)ᵀ of ``model`` over its parameters, (n1, n2).

    Differentiable in the inputs (double back-propagation through the Jacobians).
    """
    j1 = _jacobian(model, x1)
    j2 = j1 if same else _jacobian(model, x2)
    return torch.einsum("akp,bkp->ab", j1, j2) / j1.shape[1]


@dataclass
class EmpiricalKernel(Kernel):
    """A zoo model at the initialisation ``seed`` draws (``create_seeded_model``)."""

    model: str = "convnet"
    info: DatasetInfo | None = None
    seed: int = 0
    dtype: str = "float32"
    chunk: int = 16

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.info, DatasetInfo):
            raise SettingError(f"info: {self.name} needs the dataset's DatasetInfo as info=")
        self._net: dict[str, nn.Module] = {}

    def network(self, device: torch.device) -> nn.Module:
        """The seeded model on ``device``, in ``dtype`` and eval mode, built once per device."""
        key = str(device)
        if key not in self._net:
            assert self.info is not None
            net = create_seeded_model(self.model, self.info, self.seed).to(device, self.torch_dtype)
            self._net[key] = net.eval().requires_grad_(False)
        return self._net[key]

    def prepare(self, x: Tensor) -> Tensor:
        assert self.info is not None
        x = super().prepare(x)
        if tuple(x.shape[1:]) != self.info.shape:
            raise ValueError(
                f"{self.name}: images of shape {tuple(x.shape[1:])}, the model is built for "
                f"{self.info.shape}"
            )
        return x


@KERNELS.register("empirical-ntk")
@dataclass
class EmpiricalNTK(EmpiricalKernel):
    """The trace NTK of a zoo model at a seeded initialisation (see the module docstring)."""

    name: ClassVar[str] = "empirical-ntk"

    def compute(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        """Blocks of Jacobian products; each outer chunk's Jacobians are computed once."""
        net = self.network(a.device)
        return blockwise(self.block, a, b, same, self.chunk, features=partial(_jacobian, net))

    def block(self, ja: Tensor, jb: Tensor, same: bool) -> Tensor:
        return torch.einsum("akp,bkp->ab", ja, jb) / ja.shape[1]

    def block_diag(self, x: Tensor) -> Tensor:
        j = _jacobian(self.network(x.device), x)
        return j.pow(2).sum((1, 2)) / j.shape[1]


@KERNELS.register("empirical-nngp")
@dataclass
class EmpiricalNNGP(EmpiricalKernel):
    """Penultimate-feature inner products / D of a zoo model (see the module docstring)."""

    name: ClassVar[str] = "empirical-nngp"

    def features(self, x: Tensor) -> Tensor:
        """``embed`` of the seeded model, ``chunk`` images at a time."""
        net = self.network(x.device)
        if not hasattr(net, "embed"):
            raise ValueError(f"{self.name}: model {self.model!r} has no embed() for its features")
        step = self.chunk or len(x) or 1
        return torch.cat([net.embed(x[i : i + step]).flatten(1) for i in range(0, len(x), step)])

    def compute(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        fa = self.features(a)
        fb = fa if same else self.features(b)
        out = fa @ fb.T / fa.shape[1]
        return (out + out.T) / 2 if same else out

    def block_diag(self, x: Tensor) -> Tensor:
        f = self.features(x)
        return f.pow(2).sum(1) / f.shape[1]
