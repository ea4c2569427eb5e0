"""``torch.compile`` for the many fresh networks of a distillation run, without a recompile each.

Matching methods draw a new network every outer iteration. Compiling each one would cost seconds
per network; instead one graph is compiled per architecture (a template copy, called through
``torch.func.functional_call``) and every network of that architecture runs it with its own
parameters and buffers. On a CPU, inductor fuses the memory-bound layers (norm, activation,
pooling and their backward) that dominate once the convolutions are fast.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from functools import partial
from itertools import chain

import torch
from torch import Tensor, nn
from torch.func import functional_call

_GRAPHS: dict[tuple[str, str, str], Callable] = {}


class _Method(nn.Module):
    """Calls one method of the wrapped network (``forward`` or ``embed``) as its forward."""

    def __init__(self, net: nn.Module, method: str) -> None:
        super().__init__()
        self.net = net
        self.method = method

    def forward(self, x: Tensor) -> Tensor:
        return getattr(self.net, self.method)(x)


def compiled(net: nn.Module, method: str = "forward") -> Callable[[Tensor], Tensor]:
    """``getattr(net, method)`` as a compiled function; gradients reach ``net``'s parameters."""
    device = next(net.parameters()).device.type
    key = (repr(net), method, device)
    if key not in _GRAPHS:
        if not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
            raise ValueError(
                "compile=true needs a C/C++ compiler (g++ or clang++ on PATH) for torch.compile; "
                "install one or run without compile"
            )
        template = _Method(copy.deepcopy(net), method)
        _GRAPHS[key] = torch.compile(partial(functional_call, template), dynamic=False)
    fn = _GRAPHS[key]
    state = {f"net.{n}": t for n, t in chain(net.named_parameters(), net.named_buffers())}
    return lambda x: fn(state, (x,))
