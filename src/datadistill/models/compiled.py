"""``torch.compile`` for the many fresh networks of a distillation run, without a recompile each.

Matching methods draw a new network every outer iteration. Compiling each one would cost seconds
per network; instead one graph is compiled per architecture and train/eval mode (a template copy,
called through ``torch.func.functional_call``) and every network of that architecture runs it with
its own parameters and buffers. DC trains through it too, between its matching steps. On a CPU,
inductor fuses the memory-bound layers (norm, activation, pooling and their backward) that
dominate once the convolutions are fast.
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

_GRAPHS: dict[tuple, Callable] = {}


class _Method(nn.Module):
    """Calls one method of the wrapped network (``forward`` or ``embed``) as its forward."""

    def __init__(self, net: nn.Module, method: str) -> None:
        super().__init__()
        self.net = net
        self.method = method

    def forward(self, x: Tensor) -> Tensor:
        return getattr(self.net, self.method)(x)


def _require_compiler() -> None:
    if not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        raise ValueError(
            "compile=true needs a C/C++ compiler (g++ or clang++ on PATH) for torch.compile; "
            "install one or run without compile"
        )


def _graph(net: nn.Module, method: str, key: tuple) -> Callable:
    if key not in _GRAPHS:
        # every graph here compiles functional_call's one code object, so dynamo counts them
        # all against one recompile limit (8 by default): raise it so that several
        # architectures, modes, batch shapes and autocast states stay compiled, not eager
        limit = torch._dynamo.config.recompile_limit
        torch._dynamo.config.recompile_limit = max(limit, 64)
        template = _Method(copy.deepcopy(net), method)  # a copy in the net's current modes
        _GRAPHS[key] = torch.compile(partial(functional_call, template), dynamic=False)
    return _GRAPHS[key]


def compiled(net: nn.Module, method: str = "forward") -> Callable[[Tensor], Tensor]:
    """``getattr(net, method)`` as a compiled function; gradients reach ``net``'s parameters.

    The graph follows the net's train/eval modes at each call (one graph per architecture and
    combination of modes), so the same function serves training steps and frozen passes."""
    arch = (repr(net), method, next(net.parameters()).device.type)
    if not any(k[:3] == arch for k in _GRAPHS):
        _require_compiler()  # fail here, before any work, not at the first pass
    state = {f"net.{n}": t for n, t in chain(net.named_parameters(), net.named_buffers())}

    def call(x: Tensor) -> Tensor:
        key = (*arch, tuple(m.training for m in net.modules()))
        return _graph(net, method, key)(state, (x,))

    return call
