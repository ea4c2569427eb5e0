"""ZCA whitening, as KIP and MTT use it: fitted on the training images, stored with the set."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ZCA:
    """``x -> (x - mean) @ W`` on flattened images; ``W = U (S + reg·mean(S))^(-1/2) Uᵀ``.

    The regulariser is relative to the mean eigenvalue (KIP's ``zca_reg=0.1``), which keeps it
    meaningful across datasets with different pixel scales.
    """

    mean: torch.Tensor
    matrix: torch.Tensor
    reg: float

    @classmethod
    def fit(cls, images: torch.Tensor, reg: float = 0.1) -> ZCA:
        x = images.reshape(images.shape[0], -1).double()
        mean = x.mean(0)
        x = x - mean
        cov = x.T @ x / x.shape[0]
        s, u = torch.linalg.eigh(cov)
        s = s.clamp_min(0)
        w = (u / torch.sqrt(s + reg * s.mean())) @ u.T
        return cls(mean.float(), w.float(), reg)

    def __call__(self, images: torch.Tensor, batch: int = 4096) -> torch.Tensor:
        shape = images.shape
        x = images.reshape(shape[0], -1)
        out = torch.empty_like(x)
        for i in range(0, shape[0], batch):
            out[i : i + batch] = (x[i : i + batch] - self.mean) @ self.matrix
        return out.reshape(shape)
