"""``ls``: label solving. Keep a support set of real images (random by default, or any selection)
and solve for the labels with which kernel ridge regression on it best predicts the whole
training split: with A = K_ts (K_ss + λ I)⁻¹ and centred one-hot targets Y_t, the labels are
argmin ‖A Y − Y_t‖² + μ‖Y‖², the regularised normal equations (AᵀA + μ I) Y = Aᵀ Y_t, with
AᵀA and AᵀY_t summed over chunks of the training split (one pass, memory O(n_s²)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.base import DistillationMethod, InitConfig
from datadistill.distillation.kip import KernelSettings, centred, kernel_record
from datadistill.methods import METHODS
from datadistill.settings import at_least
from datadistill.synset import SyntheticSet


@dataclass
class LSConfig(KernelSettings, InitConfig):
    label_reg: float = 1e-6  # μ, relative to tr(AᵀA)/n_s
    chunk: int = 2000  # training images per kernel block

    def __post_init__(self) -> None:
        KernelSettings.__post_init__(self)
        at_least(self, 0, "label_reg")
        at_least(self, 1, "chunk")


def normal_equations(
    kernel, support: torch.Tensor, data: DataSplits, reg: float, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(AᵀA, AᵀY_t) over the training split, float64, and the regularised K_ss inverse applied."""
    k_ss = kernel(support, support)
    n_s = len(support)
    lam = reg * torch.trace(k_ss) / n_s
    eye = torch.eye(n_s, dtype=k_ss.dtype, device=k_ss.device)
    m = torch.linalg.inv(k_ss + lam * eye)  # symmetric; A = K_ts M
    gram = torch.zeros_like(k_ss)
    rhs = torch.zeros(n_s, data.info.num_classes, dtype=k_ss.dtype, device=k_ss.device)
    for i in range(0, len(data.train), chunk):
        x = data.train.images[i : i + chunk]
        y = centred(data.train.labels[i : i + chunk], data.info.num_classes).to(k_ss.device)
        k_ts = kernel(x, support)
        gram += k_ts.T @ k_ts
        rhs += k_ts.T @ y
    return m @ gram @ m, m @ rhs


@METHODS.register("ls")
class LabelSolve(DistillationMethod):
    Config = LSConfig
    summary = "label solving: real support images, labels solved by kernel ridge regression"

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        cfg = self.config
        kernel = cfg.make(data)
        start = self.initial_set(data, ipc, generator)
        with torch.no_grad():
            ata, aty = normal_equations(kernel, start.images, data, cfg.reg, cfg.chunk)
            n_s = len(start.images)
            mu = cfg.label_reg * torch.trace(ata) / n_s
            eye = torch.eye(n_s, dtype=ata.dtype, device=ata.device)
            labels = torch.linalg.solve(ata + mu * eye, aty)
        k = data.info.num_classes
        out = SyntheticSet(start.images, labels.float() + 1.0 / k, data.info, "LS", zca=data.zca)
        out.extras.update(start.extras)
        out.extras["support_labels"] = start.labels.cpu()  # a solved label may favour another class
        out.meta["label_offset"] = 1.0 / k
        out.meta["kernel"] = kernel_record(kernel, cfg.reg)
        return out
