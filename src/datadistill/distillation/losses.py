"""Distances between gradients, shared by the gradient-matching methods (DC, DSA, ...).

Each takes dicts of per-class gradients with a leading class axis ``(K, *param_shape)`` and
returns the sum over classes (and layers), as the DC reference sums its per-class losses.
"""

from __future__ import annotations

import torch

from datadistill.registry import Registry

Grads = dict[str, torch.Tensor]
DISTANCES: Registry = Registry("gradient distance")


@DISTANCES.register("layerwise")
def layerwise(real: Grads, syn: Grads) -> torch.Tensor:
    """The DC paper's distance: per layer and output unit, 1 − cosine similarity of the gradient
    rows (conv kernels flattened per output channel); biases and norm parameters are skipped."""
    total = None
    for name, gr in real.items():
        gs = syn[name]
        if gr.ndim == 2:  # (K, C): a bias or norm scale, ignored as in the reference
            continue
        if gr.ndim > 3:
            gr, gs = gr.flatten(2), gs.flatten(2)
        cos = (gr * gs).sum(-1) / (gr.norm(dim=-1) * gs.norm(dim=-1) + 1e-6)
        term = (1 - cos).sum()
        total = term if total is None else total + term
    return total


def _flat(grads: Grads) -> torch.Tensor:
    return torch.cat([g.flatten(1) for g in grads.values()], dim=1)


@DISTANCES.register("mse")
def mse(real: Grads, syn: Grads) -> torch.Tensor:
    """Squared Euclidean distance of the concatenated gradients."""
    return (_flat(real) - _flat(syn)).square().sum()


@DISTANCES.register("cos")
def cos(real: Grads, syn: Grads) -> torch.Tensor:
    """1 − cosine similarity of the concatenated gradients, per class."""
    a, b = _flat(real), _flat(syn)
    return (1 - (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-6)).sum()
