"""Implicit-function-theorem hypergradients (Lorraine, Vicol & Duvenaud 2019).

If the learner's parameters θ* sit near a stationary point of its training loss L_T(θ, φ), then
dθ*/dφ = −H⁻¹ ∂²L_T/∂θ∂φ with H = ∂²L_T/∂θ², and the outer loss L_V(θ*(φ), φ) has the gradient
``∂L_V/∂φ − (∂L_V/∂θ · H⁻¹) ∂²L_T/∂θ∂φ``. H⁻¹v comes from a truncated Neumann series: only
Hessian-vector products, memory independent of how θ* was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Tensors = tuple[torch.Tensor, ...]


def neumann_inverse_hvp(
    hvp: Callable[[Tensors], Tensors], v: Sequence[torch.Tensor], steps: int, lr: float
) -> Tensors:
    """≈ H⁻¹v as ``lr · Σ_{j=0..steps} (I − lr·H)^j v``, given ``hvp(u) = H u``; converges for a
    positive-definite H when ``lr`` is below 2 / its largest eigenvalue."""
    cur = tuple(t.detach() for t in v)
    total = cur
    for _ in range(steps):
        hv = hvp(cur)
        cur = tuple(c - lr * h.detach() for c, h in zip(cur, hv, strict=True))
        total = tuple(a + c for a, c in zip(total, cur, strict=True))
    return tuple(lr * t for t in total)


def implicit_hypergradient(
    train_loss: Callable[[Sequence[torch.Tensor]], torch.Tensor],
    val_loss: Callable[[Sequence[torch.Tensor]], torch.Tensor],
    theta: Sequence[torch.Tensor],
    phi: Sequence[torch.Tensor],
    steps: int,
    lr: float,
) -> Tensors:
    """The hypergradient of ``val_loss(θ)`` w.r.t. ``phi`` at ``theta`` (treated as optimal for
    ``train_loss(θ)``, a function of ``phi`` through its closure), direct term included; tensors
    of ``phi`` that neither loss reaches get zeros."""
    theta = [t.detach().requires_grad_(True) for t in theta]
    lv = val_loss(theta)
    v = torch.autograd.grad(lv, theta, retain_graph=True, allow_unused=True)
    v = tuple(torch.zeros_like(t) if g is None else g for g, t in zip(v, theta, strict=True))
    direct = torch.autograd.grad(lv, list(phi), allow_unused=True)
    g_train = torch.autograd.grad(train_loss(theta), theta, create_graph=True)

    def hvp(u: Tensors) -> Tensors:
        return torch.autograd.grad(g_train, theta, grad_outputs=u, retain_graph=True)

    p = neumann_inverse_hvp(hvp, v, steps, lr)
    mixed = torch.autograd.grad(g_train, list(phi), grad_outputs=p, allow_unused=True)
    out = []
    for d, m, f in zip(direct, mixed, phi, strict=True):
        g = torch.zeros_like(f)
        if d is not None:
            g = g + d
        if m is not None:
            g = g - m
        out.append(g)
    return tuple(out)
