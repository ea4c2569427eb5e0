"""Kernel ridge regression, the inner solve of KIP and of label solving."""

from __future__ import annotations

import torch
from torch import Tensor

from datadistill.kernels.base import Kernel


def krr_predict(
    kernel: Kernel,
    x_support: Tensor,
    y_support: Tensor,
    x_target: Tensor,
    reg: float = 1e-6,
    relative: bool = True,
) -> Tensor:
    """Predictions K_ts (K_ss + λ I)⁻¹ y_s for the targets, in float64, differentiable in the
    support images, the support labels and the targets.

    ``y_support``: float targets (n_s,) or (n_s, K), e.g. one-hot labels. With ``relative``,
    λ = reg · tr(K_ss) / n_s, which makes ``reg`` independent of the kernel's scale (as in the
    KIP paper, Nguyen, Chen & Lee 2021); else λ = reg. Solved by Cholesky, falling back to a
    general solve where K_ss + λ I is not numerically positive definite.
    """
    if not y_support.is_floating_point():
        raise ValueError("krr_predict: y_support must be float targets, e.g. one-hot labels")
    if len(y_support) != len(x_support):
        raise ValueError(
            f"krr_predict: {len(x_support)} support images but {len(y_support)} targets"
        )
    if reg < 0:
        raise ValueError(f"krr_predict: reg must be >= 0, got {reg}")
    k_ss = kernel(x_support, x_support).to(torch.float64)
    k_ts = k_ss if x_target is x_support else kernel(x_target, x_support).to(torch.float64)
    n = k_ss.shape[0]
    lam = reg * torch.trace(k_ss) / n if relative else torch.as_tensor(reg, dtype=torch.float64)
    a = k_ss + lam * torch.eye(n, dtype=torch.float64, device=k_ss.device)
    y = y_support.to(torch.float64)
    rhs = y.unsqueeze(1) if y.ndim == 1 else y
    chol, info = torch.linalg.cholesky_ex(a)
    alpha = torch.cholesky_solve(rhs, chol) if int(info) == 0 else torch.linalg.solve(a, rhs)
    out = k_ts @ alpha
    return out.squeeze(1) if y.ndim == 1 else out
