"""``dc`` and ``dsa``: gradient matching (Zhao, Mopuri, Bilen 2021) and its siamese-augmentation
variant (Zhao & Bilen 2021).

Per iteration a fresh network is drawn; for ``outer_loop`` steps the synthetic images move so that
the network's gradient on them matches its gradient on real images class by class, and between
steps the network trains ``inner_loop`` epochs on the synthetic set. Per-class gradients of all
classes come from one vmapped ``torch.func.grad`` (one batched pass instead of a Python loop over
classes); the synthetic gradients stay differentiable through ordinary autograd. Under
``torchrun`` each rank matches its own classes' gradients (``distillation.distributed``); the
batch-norm statistics and the inner training use every class and are repeated on every rank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from datadistill.datasets.augmentation import create_augmentation
from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.distributed import class_share, share_batches
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.distillation.losses import DISTANCES
from datadistill.evaluation.train import fit
from datadistill.methods import METHODS
from datadistill.models import inference_batch
from datadistill.settings import at_least, positive

# The paper's (outer_loop, inner_loop) by images per class.
LOOPS = {1: (1, 1), 10: (10, 50), 20: (20, 25), 30: (30, 20), 40: (40, 15), 50: (50, 10)}


@dataclass
class DCConfig(IterativeConfig):
    iterations: int = 1000
    lr_img: float = 0.1
    momentum: float = 0.5
    lr_net: float = 0.01
    batch_real: int = 256
    batch_train: int = 256
    model: str = "convnet"
    distance: str = "layerwise"
    outer_loop: int = 0
    inner_loop: int = 0
    bn_images_per_class: int = 16
    augment: str = "none"
    dsa_strategy: str = "color_crop_cutout_flip_scale_rotate"
    batched_classes: str | bool = "auto"
    real_chunk: int = -1  # -1: small chunks on a CPU, one pass on a GPU; 0: one pass

    def __post_init__(self) -> None:
        super().__post_init__()
        positive(self, "lr_net")
        at_least(self, 1, "batch_real", "batch_train", "bn_images_per_class")
        at_least(self, 0, "outer_loop", "inner_loop")
        at_least(self, -1, "real_chunk")

    def loops(self, ipc: int) -> tuple[int, int]:
        """``outer_loop``/``inner_loop`` if set, else the paper's values for ``ipc`` (0 = by IPC)."""
        outer, inner = LOOPS.get(ipc, LOOPS[min(LOOPS, key=lambda k: abs(k - ipc))])
        return self.outer_loop or outer, self.inner_loop or inner


@dataclass
class DSAConfig(DCConfig):
    augment: str = "dsa"


def _set_batchnorm_from_real(
    net: nn.Module, data: DataSplits, per_class: int, generator: torch.Generator
) -> None:
    """Batch-norm layers take running statistics from a real batch of every class, then freeze."""
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    real = torch.cat(
        [data.train.sample(c, per_class, generator) for c in range(data.info.num_classes)]
    )
    net.train()
    with torch.no_grad():
        net(real)
    for m in bns:
        m.eval()


def class_gradients(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batched: bool,
    keep_graph: bool,
    chunk: int = 0,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """Per-class parameter gradients ``{name: (K, *shape)}`` of the loss on ``x[c]``, ``y[c]``.

    ``batched``: one vmapped ``torch.func.grad`` over the class axis (fast on a GPU); otherwise
    a loop of ``autograd.grad`` (faster on a CPU, where small per-class batches stay in cache).
    ``keep_graph``: the result stays differentiable w.r.t. ``x`` (for the synthetic images).
    ``chunk``: in the loop, accumulate graph-free gradients over chunks of this many images.
    ``forward``: the loop's forward pass (default ``net``; e.g. a compiled one).
    """
    names = [n for n, _ in net.named_parameters()]
    if batched:
        params = {n: p.detach() for n, p in net.named_parameters()}
        buffers = dict(net.named_buffers())

        def class_loss(p: dict, xc: torch.Tensor, yc: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(functional_call(net, (p, buffers), (xc,)), yc)

        grads = vmap(grad(class_loss), in_dims=(None, 0, 0))(params, x, y)
        return grads if keep_graph else {n: g.detach() for n, g in grads.items()}
    params = list(net.parameters())
    forward = forward or net
    per_class = [
        _class_gradient(forward, params, xc, yc, keep_graph, chunk)
        for xc, yc in zip(x, y, strict=True)
    ]
    return {n: torch.stack([g[i] for g in per_class]) for i, n in enumerate(names)}


def _class_gradient(
    forward: Callable[[torch.Tensor], torch.Tensor],
    params: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    keep_graph: bool,
    chunk: int,
) -> tuple[torch.Tensor, ...]:
    """Gradient of the mean loss on ``(x, y)``. Without a graph to keep, it is accumulated over
    chunks of ``chunk`` images (the same sum: the norms act per image, or on frozen statistics)."""
    if keep_graph or chunk <= 0 or chunk >= len(x):
        return torch.autograd.grad(F.cross_entropy(forward(x), y), params, create_graph=keep_graph)
    total = None
    for i in range(0, len(x), chunk):
        loss = F.cross_entropy(forward(x[i : i + chunk]), y[i : i + chunk], reduction="sum")
        loss = loss / len(x)
        g = torch.autograd.grad(loss, params)
        total = g if total is None else tuple(a + b for a, b in zip(total, g, strict=True))
    return total


@METHODS.register("dc")
class DC(IterativeDistillation):
    Config = DCConfig
    summary = "gradient matching, class by class (Zhao, Mopuri, Bilen 2021)"
    splits_classes = True  # under torchrun each rank learns a share of the classes

    def step(self, data, images, labels, ipc, generator, opt) -> float:
        cfg = self.config
        outer, inner = cfg.loops(ipc)
        aug = create_augmentation(
            cfg.augment,
            flip=data.info.flip,
            **({"strategy": cfg.dsa_strategy} if cfg.augment == "dsa" else {}),
        )
        net = self.network(data, generator)
        distance = DISTANCES.get(cfg.distance)
        k = data.info.num_classes
        total = 0.0
        batched = (
            cfg.batched_classes if cfg.batched_classes != "auto" else images.device.type == "cuda"
        )
        share = class_share(k)  # all classes, or this rank's under torchrun
        n_real = min(cfg.batch_real, *data.train.class_counts())  # the smallest class's batch
        for ol in range(outer):
            _set_batchnorm_from_real(net, data, cfg.bn_images_per_class, generator)
            real, syn = share_batches(
                data, images, ipc, range(k), share, cfg.batch_real, aug, generator
            )
            real_x = torch.stack([r[:n_real] for r in real])
            owned = torch.arange(share.classes.start, share.classes.stop, device=images.device)
            real_y = owned.view(-1, 1).expand(len(owned), n_real)
            chunk = (
                cfg.real_chunk
                if cfg.real_chunk >= 0
                else (0 if batched else inference_batch(images.device, cfg.compile))
            )
            g_real = class_gradients(
                net,
                real_x,
                real_y,
                batched,
                keep_graph=False,
                chunk=chunk,
                forward=self.forward_of(net),
            )
            syn_y = labels.view(k, ipc)[share.classes.start : share.classes.stop]
            g_syn = class_gradients(net, torch.stack(syn), syn_y, batched, keep_graph=True)
            loss = distance(g_real, g_syn)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            total += share.reduce(loss, opt)
            opt.step()
            if ol == outer - 1:
                break
            fit(
                net,
                images.detach().clone(),
                labels,
                epochs=inner,
                lr=cfg.lr_net,
                momentum=0.0,
                weight_decay=0.0,
                batch_size=cfg.batch_train,
                generator=generator,
                augmentation=aug if cfg.augment == "dsa" else None,
                lr_decay=False,
                forward=self.forward_of(net) if cfg.compile else None,
            )
        return total / outer


@METHODS.register("dsa")
class DSA(DC):
    Config = DSAConfig
    summary = "gradient matching with siamese augmentation (Zhao & Bilen 2021)"
