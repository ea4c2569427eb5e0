"""``dm``: distribution matching (Zhao & Bilen 2023): match, class by class, the mean embedding of
real and synthetic images under randomly initialised networks, with siamese DSA augmentation.

All classes go through the network in one pass (the reference loops over classes); real features
need no gradient. ``class_chunk`` bounds memory by processing that many classes per backward.
Under ``torchrun`` each rank computes its own classes' terms (``distillation.distributed``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from datadistill.datasets.augmentation import create_augmentation
from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.distributed import class_share, share_batches
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.methods import METHODS
from datadistill.models import forward_in_chunks, inference_batch
from datadistill.settings import at_least, positive


@dataclass
class DMConfig(IterativeConfig):
    iterations: int = 20000
    lr_img: float = 1.0
    lr_img_large_ipc: float = 10.0
    momentum: float = 0.5
    batch_real: int = 256
    model: str = "convnet"
    augment: str = "dsa"  # "none" for text (set by the dataset's defaults)
    dsa_strategy: str = "color_crop_cutout_flip_scale_rotate"
    class_chunk: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        positive(self, "lr_img_large_ipc")
        at_least(self, 1, "batch_real")
        at_least(self, 0, "class_chunk")


def _mean_embeddings(
    embed: Callable[[torch.Tensor], torch.Tensor], batches: list[torch.Tensor], chunk: int
) -> torch.Tensor:
    """Mean embedding of each batch: one concatenated pass (``chunk`` 0; a GPU wants big
    batches) or cache-friendly chunks of ``chunk`` images (faster on a CPU)."""
    if chunk == 0:
        feats = embed(torch.cat(batches)).split([len(b) for b in batches])
        return torch.stack([f.mean(0) for f in feats])
    return torch.stack([forward_in_chunks(embed, b, chunk).mean(0) for b in batches])


@METHODS.register("dm")
class DM(IterativeDistillation):
    Config = DMConfig
    summary = "distribution matching of mean embeddings under random networks (Zhao & Bilen 2023)"
    splits_classes = True  # under torchrun each rank learns a share of the classes

    def lr_img(self, ipc: int) -> float:
        return self.config.lr_img_large_ipc if ipc >= 100 else self.config.lr_img

    def rate_setting(self, ipc: int) -> str:
        return "lr_img_large_ipc" if ipc >= 100 else "lr_img"

    def loss(
        self,
        data: DataSplits,
        images: torch.Tensor,
        labels: torch.Tensor,
        ipc: int,
        generator: torch.Generator,
    ) -> torch.Tensor:
        cfg = self.config
        aug = create_augmentation(
            cfg.augment,
            flip=data.info.flip,
            **({"strategy": cfg.dsa_strategy} if cfg.augment == "dsa" else {}),
        )
        net = self.network(data, generator)
        net.requires_grad_(False)
        k = data.info.num_classes
        embed = self.forward_of(net, "embed")
        chunk = 0 if images.device.type == "cuda" else inference_batch(images.device, cfg.compile)
        group = cfg.class_chunk or k
        share = class_share(k)  # all classes, or this rank's under torchrun
        groups = [range(lo, min(lo + group, k)) for lo in range(0, k, group)]
        last = max(i for i, g in enumerate(groups) if any(map(share.owns, g)))
        total = images.new_zeros(())
        for i, classes in enumerate(groups):
            real, syn = share_batches(
                data, images, ipc, classes, share, cfg.batch_real, aug, generator
            )
            if not real:
                continue
            with torch.no_grad():
                mu_real = _mean_embeddings(embed, real, chunk)
            mu_syn = net.embed(torch.cat(syn)).view(len(syn), ipc, -1).mean(1)
            loss = (mu_real - mu_syn).square().sum()
            if i < last:
                loss.backward()  # free this chunk's graph now; the caller's backward adds the rest
                total = total + loss.detach()
            else:
                total = total + loss
        return total
