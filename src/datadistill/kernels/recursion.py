"""The infinite-width ReLU recursions shared by the fully connected and convolutional kernels.

A ReLU network's pre-activations at infinite width are a Gaussian process (Lee et al. 2018;
Novak et al. 2019). For a pair of inputs with covariance Σ = [[va, c], [c, vb]] the ReLU moments
have the closed arc-cosine form (Cho & Saul 2009), with ρ = c / √(va vb) and θ = arccos ρ:

    E[φ(u) φ(v)]   = √(va vb) / (2π) · (sin θ + (π − θ) cos θ)
    E[φ'(u) φ'(v)] = (π − θ) / (2π)

A linear layer with weight variance ``w_var`` (over its fan-in) and bias variance ``b_var`` maps
them to the next layer's NNGP and NTK (Jacot et al. 2018; Arora et al. 2019):

    Σ^{l+1} = w_var · L(E[φφ]) + b_var,    Θ^{l+1} = Σ^{l+1} + w_var · L(E[φ'φ'] · Θ^l),

where ``L`` averages over what the layer sees: the identity for a dense layer, the 3×3 patch of
a convolution, all positions for the readout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

Linear = Callable[[Tensor], Tensor]
Variances = Callable[[int, Tensor], tuple[Tensor, Tensor]]


def relu_moments(c: Tensor, va: Tensor, vb: Tensor) -> tuple[Tensor, Tensor]:
    """``E[φ(u)φ(v)]`` and ``E[φ'(u)φ'(v)]`` for ReLU φ and (u, v) ~ N(0, [[va, c], [c, vb]]).

    Where ρ = ±1 (an input paired with itself) arccos has an infinite derivative while ρ sits at
    an extremum; there θ is taken without gradient, so gradients stay finite (and exact).
    """
    norm = torch.sqrt(va * vb)  # not √va·√vb: √(d·d) is exactly d, so ρ(x, x) is exactly 1
    rho = (c / norm).clamp(-1.0, 1.0)
    inside = rho.abs() < 1.0
    edge = (1.0 - rho.detach()) * (math.pi / 2)  # arccos(±1), constant
    theta = torch.where(inside, torch.arccos(torch.where(inside, rho, 0.0)), edge)
    rest = math.pi - theta
    kphi = norm * torch.addcmul(torch.sin(theta), rest, rho) / (2 * math.pi)
    return kphi, rest / (2 * math.pi)


def propagate(
    sigma: Tensor,
    variances: Variances,
    layers: Sequence[Linear],
    w_var: float,
    b_var: float,
    ntk: bool,
) -> Tensor:
    """The NNGP (or NTK) after ReLU + ``layers``, from the first layer's covariance ``sigma``.

    ``variances(l, sigma)`` gives the two inputs' own variances at layer ``l``, broadcastable
    against ``sigma`` (the normalisers of ρ).
    """
    theta = sigma
    for layer, linear in enumerate(layers):
        va, vb = variances(layer, sigma)
        kphi, kdot = relu_moments(sigma, va, vb)
        new = w_var * linear(kphi) + b_var
        if ntk:
            theta = new + w_var * linear(kdot * theta)
        sigma = new
    return theta if ntk else sigma


def propagate_self(
    sigma: Tensor, layers: Sequence[Linear], w_var: float, b_var: float, ntk: bool
) -> tuple[Tensor, list[Tensor]]:
    """:func:`propagate` for an input paired with itself at the same positions (ρ = 1, so
    E[φφ] = Σ/2 and E[φ'φ'] = 1/2); also returns Σ before each layer (the normalisers that the
    cross terms need)."""
    theta = sigma
    hidden = []
    for linear in layers:
        hidden.append(sigma)
        new = w_var * linear(sigma / 2) + b_var
        if ntk:
            theta = new + w_var * linear(theta / 2)
        sigma = new
    return (theta if ntk else sigma), hidden


def pair_variances(hidden_a: Sequence[Tensor], hidden_b: Sequence[Tensor]) -> Variances:
    """Normalisers for a cross block (n1, n2, ...) from each side's own variances (n, ...)."""

    def variances(depth: int, sigma: Tensor) -> tuple[Tensor, Tensor]:
        return hidden_a[depth].unsqueeze(1), hidden_b[depth].unsqueeze(0)

    return variances


def same_variances(depth: int, sigma: Tensor) -> tuple[Tensor, Tensor]:
    """Normalisers for a block of images against themselves, read off the block's own diagonal,
    so that ρ is exactly 1 there (this keeps θ and its gradient exact on the diagonal)."""
    d = torch.diagonal(sigma, 0, 0, 1).movedim(-1, 0)
    return d.unsqueeze(1), d.unsqueeze(0)
