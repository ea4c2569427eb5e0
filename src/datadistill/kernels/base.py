"""The kernel interface, its registry and ``make_kernel``.

A kernel is a dataclass of settings with one verb: ``kernel(x1, x2)`` gives the (n1, n2) matrix of
an image batch against another, ``kernel.diag(x)`` the (n,) self-similarities. Everything is
differentiable in the inputs (KIP back-propagates through the kernel to the support images) and
computed in the kernel's ``dtype``, to which inputs are cast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from datadistill.registry import Registry
from datadistill.settings import SettingError, at_least, make_config, one_of

DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}

Block = Callable[[Tensor, Tensor, bool], Tensor]


@dataclasses.dataclass
class Kernel:
    """Base class. ``dtype``: the precision of the computation (inputs are cast to it);
    ``chunk``: at most this many images of each side per block (bounds memory; 0: one block)."""

    name: ClassVar[str] = ""
    recompute: ClassVar[bool] = False  # checkpoint blocks under autograd (see ``blockwise``)

    dtype: str = "float64"
    chunk: int = 0

    def __post_init__(self) -> None:
        one_of(self, "dtype", tuple(DTYPES))
        at_least(self, 0, "chunk")

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def settings(self) -> dict[str, Any]:
        """The settings as plain values, for the set file's record (a ``DatasetInfo`` by name)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = getattr(value, "name", value) if f.name == "info" else value
        return out

    def __call__(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The (n1, n2) kernel matrix. Passing the same tensor twice (``k(x, x)``) is recognised:
        the result is exactly symmetric and, on its diagonal, ρ = 1 exactly (so θ = 0 with a
        finite, exact gradient, where a copy of ``x`` would give rounding noise)."""
        same = x1 is x2
        a = self.prepare(x1)
        b = a if same else self.prepare(x2)
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(
                f"{self.name}: inputs of shapes {tuple(x1.shape)} and {tuple(x2.shape)} differ"
            )
        return self.compute(a, b, same)

    def diag(self, x: Tensor) -> Tensor:
        """The (n,) diagonal ``k(x_i, x_i)``, without the off-diagonal terms."""
        x = self.prepare(x)
        step = self.chunk or len(x) or 1
        return torch.cat([self.block_diag(x[i : i + step]) for i in range(0, len(x), step)])

    def prepare(self, x: Tensor) -> Tensor:
        """Check the shape and cast to ``dtype`` (a differentiable cast)."""
        if x.ndim != 4:
            raise ValueError(
                f"{self.name}: expected images (N, C, H, W), got shape {tuple(x.shape)}"
            )
        return x.to(self.torch_dtype)

    def compute(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        """The kernel matrix of prepared inputs, block by block (see :func:`blockwise`)."""
        return blockwise(self.block, a, b, same, self.chunk, self.recompute)

    def block(self, a: Tensor, b: Tensor, same: bool) -> Tensor:
        """The kernel matrix of one block; ``same``: ``a`` and ``b`` are the same images."""
        raise NotImplementedError

    def block_diag(self, x: Tensor) -> Tensor:
        """The diagonal of one block."""
        raise NotImplementedError


def blockwise(
    block: Block,
    a: Tensor,
    b: Tensor,
    same: bool,
    chunk: int,
    recompute: bool = False,
    features: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Assemble ``block`` over chunks of ``chunk`` rows of each side. For ``same`` inputs only the
    upper triangle of blocks is computed, the rest mirrored, and the result symmetrised.

    ``features`` (default: none) maps each chunk before ``block`` sees it, computed once per
    chunk of the outer side and once per block for the inner side; the smaller set is the outer
    one, so the costly side is recomputed ⌈n_small / chunk⌉ times.

    With ``recompute``, when the inputs need gradients, each block is checkpointed
    (``torch.utils.checkpoint``): autograd keeps only its inputs and output, and the backward pass
    recomputes one block at a time: memory stays that of one block, for a second forward pass.
    """
    if not same and len(b) < len(a):
        return blockwise(block, b, a, False, chunk, recompute, features).T
    if recompute and torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        plain = block

        def block(x: Tensor, y: Tensor, s: bool) -> Tensor:
            return checkpoint(plain, x, y, s, use_reentrant=False)

    def prepare(x: Tensor) -> Tensor:
        return x if features is None else features(x)

    step = chunk or max(len(a), len(b), 1)
    starts_a, starts_b = range(0, len(a), step), range(0, len(b), step)
    grid: list[list[Tensor]] = [[] for _ in starts_a]
    for i, s in enumerate(starts_a):
        fa = prepare(a[s : s + step])
        for j, t in enumerate(starts_b):
            if same and j < i:
                grid[i].append(grid[j][i].T)
            elif same and j == i:
                out = block(fa, fa, True)
                grid[i].append((out + out.T) / 2)
            else:
                grid[i].append(block(fa, prepare(b[t : t + step]), False))
    return torch.cat([torch.cat(row, 1) for row in grid], 0)


# Kernels register themselves in these modules, which import this one: loaded on first lookup.
KERNELS: Registry[type[Kernel]] = Registry(
    "kernel",
    ("datadistill.kernels.fc", "datadistill.kernels.conv", "datadistill.kernels.empirical"),
)


def list_kernels(pattern: str = "*") -> list[str]:
    return KERNELS.names(pattern)


def make_kernel(name: str, **settings: Any) -> Kernel:
    """The registered kernel ``name`` with ``settings`` (unknown ones and values out of range are
    refused by a one-line ``ValueError`` naming the setting; an unknown name raises
    ``UnknownNameError`` listing the known ones)."""
    cls = KERNELS.get(name)
    try:
        return make_config(cls, settings, f"kernel {name!r}")
    except SettingError as e:
        raise SettingError(" ".join(str(e).split())) from None
