"""Replay one loss and its backward as a CUDA graph.

An unrolled inner loop of a small network (DD's schedule of GD steps, differentiated twice) is
thousands of tiny kernels per outer iteration: on a GPU its time is the CPU launching them, not
the GPU running them. Capturing the forward and backward once and replaying the graph removes
the launches; inputs are copied into static tensors before each replay and the gradients land in
the leaves' ``.grad``, which the graph owns (they are overwritten, never set to None, between
replays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


class GraphedBackward:
    """``loss_fn(*inputs)`` and its backward into ``leaves[i].grad``, captured on first call.

    Later calls must pass tensors of the same shapes; the leaves must keep their storage (update
    them in place, as optimizers do). Returns the loss as a tensor owned by the graph."""

    def __init__(
        self,
        loss_fn: Callable[..., torch.Tensor],
        leaves: Sequence[torch.Tensor],
        warmup: int = 3,
    ) -> None:
        self.loss_fn = loss_fn
        self.leaves = list(leaves)
        self.warmup = warmup
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static: list[torch.Tensor] = []
        self.loss: torch.Tensor | None = None

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        if self.graph is None:
            self._capture(inputs)
        for static, x in zip(self.static, inputs, strict=True):
            static.copy_(x)
        self.graph.replay()
        return self.loss

    def _capture(self, inputs: Sequence[torch.Tensor]) -> None:
        if any(not t.is_cuda for t in (*inputs, *self.leaves)):
            raise ValueError("CUDA graphs need every input and leaf on a CUDA device")
        self.static = [x.detach().clone() for x in inputs]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up (workspaces, autograd streams); no update
            for _ in range(self.warmup):
                self._zero()
                self.loss_fn(*self.static).backward()
        torch.cuda.current_stream().wait_stream(side)
        self._zero()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.loss = self.loss_fn(*self.static)
            self.loss.backward()

    def _zero(self) -> None:
        for leaf in self.leaves:
            leaf.grad = None
