"""``kip``: kernel inducing points (Nguyen, Chen & Lee 2021). Support images (and, by default,
their labels) learned with Adam so that kernel ridge regression on them predicts a batch of real
training images: loss ½‖K_ts (K_ss + λ·tr(K_ss)/n I)⁻¹ y_s − y_t‖² per target image, with
centred one-hot labels (one-hot − 1/K) and the regulariser relative to the kernel's trace.

The set keeps its label vectors un-centred (+1/K, one-hot where never learned) so that finite
networks train on them with cross-entropy, as SLDD's raw labels; ``meta["label_offset"]`` and
``meta["kernel"]`` let ``datadistill.evaluation.krr_accuracy`` rebuild the kernel regression.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.methods import METHODS
from datadistill.settings import at_least, positive
from datadistill.synset import SyntheticSet


@dataclass
class KernelSettings:
    """The kernel of a kernel method: a name in ``datadistill.kernels.KERNELS`` and the settings
    of the analytic NNGP/NTK kernels (those the chosen kernel lacks are not passed on)."""

    kernel: str = "fc-ntk"
    depth: int = 3
    w_var: float = 2.0
    b_var: float = 0.01
    reg: float = 1e-6  # λ relative to tr(K_ss)/n_s, as the KIP paper

    def __post_init__(self) -> None:
        at_least(self, 1, "depth")
        positive(self, "w_var", "b_var")
        at_least(self, 0, "reg")

    def make(self, data: DataSplits) -> Any:
        from datadistill.kernels import KERNELS, make_kernel

        names = {f.name for f in dataclasses.fields(KERNELS.get(self.kernel))}
        wanted = {"depth": self.depth, "w_var": self.w_var, "b_var": self.b_var}
        settings = {k: v for k, v in wanted.items() if k in names}
        if "info" in names:
            settings["info"] = data.info
        return make_kernel(self.kernel, **settings)


def centred(labels: torch.Tensor, k: int) -> torch.Tensor:
    """One-hot rows minus 1/K (KIP's labels), float64."""
    return torch.nn.functional.one_hot(labels, k).double() - 1.0 / k


def kernel_record(kernel: Any, reg: float) -> dict[str, Any]:
    return {"name": kernel.name, "settings": kernel.settings(), "reg": reg}


@dataclass
class KIPConfig(KernelSettings, IterativeConfig):
    iterations: int = 1000
    lr_img: float = 0.01  # Adam, on images and labels
    batch_real: int = 5000  # target images per iteration
    learn_labels: bool = True

    def __post_init__(self) -> None:
        IterativeConfig.__post_init__(self)
        KernelSettings.__post_init__(self)
        at_least(self, 1, "batch_real")


@METHODS.register("kip")
class KIP(IterativeDistillation):
    Config = KIPConfig
    summary = "kernel inducing points: support set fitted by kernel ridge regression (Nguyen 2021)"

    def learned_extras(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        self.kernel = self.config.make(data)
        return {}

    def prepare(self, data: DataSplits, ipc: int, generator: torch.Generator):
        images, labels = super().prepare(data, ipc, generator)
        y = centred(labels, data.info.num_classes).float()
        if self.config.learn_labels:
            self.extra["label_values"] = y.requires_grad_(True)
        else:
            self.fixed_labels = y
        return images, labels

    def make_optimizer(self, params: list[torch.Tensor], ipc: int) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.config.lr_img)

    def support_labels(self) -> torch.Tensor:
        return self.extra.get("label_values", getattr(self, "fixed_labels", None))

    def loss(self, data, images, labels, ipc, generator) -> torch.Tensor:
        from datadistill.kernels import krr_predict

        n = len(data.train)
        idx = torch.randperm(n, generator=generator)[: self.config.batch_real]
        idx = idx.to(data.train.images.device)
        x_t, y_t = data.train.images[idx], data.train.labels[idx]
        target = centred(y_t, data.info.num_classes)
        pred = krr_predict(self.kernel, images, self.support_labels(), x_t, reg=self.config.reg)
        return 0.5 * (pred - target).square().sum(1).mean()

    def make_set(self, data, images, labels, extra) -> SyntheticSet:
        k = data.info.num_classes
        y = extra.get("label_values", getattr(self, "fixed_labels", None))
        out = SyntheticSet(images, y.detach().float() + 1.0 / k, data.info, "KIP", zca=data.zca)
        out.meta["label_offset"] = 1.0 / k
        out.meta["kernel"] = kernel_record(self.kernel, self.config.reg)
        return out
