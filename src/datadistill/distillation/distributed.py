"""One distillation across processes (``torchrun``): DM and DC split the classes across ranks.

Every rank holds the whole set and the same generator, and makes every random draw of the
single-process run in the same order (networks, real batches, augmentation), so all ranks stay in
step without exchanging random state. Each rank computes only its own classes' loss terms, which
give gradients only to its own classes' images (the methods' losses are sums of per-class terms);
``ClassShare.reduce`` then sums the gradients and losses over ranks before the optimiser step.
The supports are disjoint, so the sum is exact: every rank takes the identical SGD step on the
whole set (the effect of an all-gather of each rank's updated images, with identical momentum
buffers and checkpoints everywhere). Without an initialised process group a share is all
classes and nothing is exchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from datadistill.datasets.augmentation import Augmentation
from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.base import siamese_class_batches


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes (0, 1 without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """Whether this process writes files and shows progress (rank 0, or the only process)."""
    return rank_and_world()[0] == 0


@dataclass(frozen=True)
class ClassShare:
    """The contiguous block of classes one rank learns, out of ``world`` ranks."""

    classes: range
    world: int = 1

    def owns(self, c: int) -> bool:
        return c in self.classes

    def reduce(self, loss: torch.Tensor, opt: torch.optim.Optimizer) -> float:
        """Sum the learned tensors' gradients and the loss over ranks (one all-reduce); the
        loss of the whole run as a float."""
        if self.world == 1:
            return float(loss.detach())
        params = [p for group in opt.param_groups for p in group["params"]]
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        flat = torch.cat(
            [g.reshape(-1).float() for g in grads] + [loss.detach().reshape(1).float()]
        )
        dist.all_reduce(flat)
        pieces = flat.split([g.numel() for g in grads] + [1])
        for p, piece in zip(params, pieces, strict=False):
            if p.grad is None:
                p.grad = piece.view(p.shape).to(p.dtype)
            else:
                p.grad.copy_(piece.view(p.shape))
        return float(pieces[-1])


def class_share(num_classes: int) -> ClassShare:
    """This rank's classes: ``num_classes`` split into ``world`` contiguous, near-equal blocks."""
    rank, world = rank_and_world()
    if world > num_classes:
        raise ValueError(
            f"{world} processes for {num_classes} classes: a class-split run needs at most one "
            "process per class"
        )
    return ClassShare(range(rank * num_classes // world, (rank + 1) * num_classes // world), world)


def share_batches(
    data: DataSplits,
    images: torch.Tensor,
    ipc: int,
    classes: range,
    share: ClassShare,
    batch_real: int,
    aug: Augmentation,
    generator: torch.Generator,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``siamese_class_batches`` of the shared classes among ``classes``; the other classes'
    draws are made and dropped, so that every rank's generator stays in step."""
    real, syn = [], []
    for c in classes:
        if share.owns(c):
            r, s = siamese_class_batches(
                data, images, ipc, range(c, c + 1), batch_real, aug, generator
            )
            real += r
            syn += s
        else:
            aug.sample(max(len(data.train.sample(c, batch_real, generator)), ipc), generator)
    return real, syn


def init_from_env(device: str) -> str:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1 in the environment): gloo
    on the CPU, NCCL on GPUs, each rank on GPU ``LOCAL_RANK``. Returns the device this rank uses
    (``device`` itself without torchrun)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return device
    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo")
    return device


def barrier() -> None:
    """Wait until every rank is here (before leaving: rank 0 may still be writing files)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def finish() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
