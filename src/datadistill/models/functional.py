"""Train several copies of one model at once with ``torch.func`` (stacked weights + ``vmap``).

The evaluation protocol trains many seeded copies of a small network; vmapping one functional call
over their stacked weights runs them as a single batched computation. Models with batch norm
update running statistics in place and are trained one by one instead (see ``has_batchnorm``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state

TensorDict = dict[str, Tensor]


def stack_models(models: Sequence[nn.Module]) -> tuple[TensorDict, TensorDict]:
    """Stack the parameters and buffers of same-architecture models along a new leading dim.

    The stacked parameters are fresh leaf tensors that require grad: optimise them directly.
    """
    return stack_module_state(list(models))


def batched_forward(
    base_model: nn.Module, params: TensorDict, buffers: TensorDict, x: Tensor
) -> Tensor:
    """Run R stacked copies of ``base_model`` on their own batches: (R, B, ...) -> (R, B, classes).

    Only the structure of ``base_model`` is used (it may live on the ``meta`` device); the weights
    come from ``params`` and ``buffers`` as returned by :func:`stack_models`.
    """

    def one(p: TensorDict, b: TensorDict, xi: Tensor) -> Tensor:
        return functional_call(base_model, (p, b), (xi,))

    return torch.vmap(one)(params, buffers, x)


def has_batchnorm(model: nn.Module) -> bool:
    """Whether the model has a batch-norm layer, whose in-place running statistics rule out vmap."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def inference_batch(device: torch.device | str, compiled: bool = False) -> int:
    """Batch size for passes over real data: small on a CPU, where activations that stay in cache
    make the memory-bound layers (norm, ReLU, pooling) about twice as fast per image as large
    batches (measured on 2 cores); large on a GPU. Compiled networks fuse those layers, and on a
    CPU run fastest at 32 images (ConvNet on MNIST, measured on 2 cores)."""
    if torch.device(device).type == "cuda":
        return 2048
    return 32 if compiled else 8


@torch.no_grad()
def forward_in_chunks(
    fn: Callable[[Tensor], Tensor], x: Tensor, batch: int | None = None, pad: bool = False
) -> Tensor:
    """``fn(x)`` computed ``batch`` rows at a time (default: ``inference_batch``), concatenated.
    ``pad``: the last chunk is padded to ``batch`` rows and the padding's outputs dropped, so
    every call has one shape (a compiled ``fn`` then needs one graph); only for ``fn`` that treat
    rows independently (eval mode)."""
    batch = batch or inference_batch(x.device)
    parts = []
    for i in range(0, len(x), batch):
        chunk = x[i : i + batch]
        short = batch - len(chunk)
        if pad and short:
            chunk = torch.cat([chunk, chunk[:1].expand(short, *chunk.shape[1:])])
        parts.append(fn(chunk)[: batch - short])
    return torch.cat(parts)
