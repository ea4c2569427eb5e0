"""``dd``: dataset distillation by unrolled training (Wang, Zhu, Torralba & Efros 2018), and
``sldd``, its soft-label extension (Sucholutsky & Schonlau 2019).

The set is a schedule: ``steps`` batches of images, replayed for ``epochs`` epochs of plain
gradient descent, each of the ``steps × epochs`` updates with its own learned learning rate. One
outer iteration trains a network through that whole schedule functionally (``torch.func``), takes
the loss of the trained network on a real minibatch, and back-propagates it to the images, the
rates and (for SLDD) the labels. ``net_init="fixed"`` ties the set to one initialisation θ0, saved
with it; ``"random"`` draws fresh initialisations every iteration, so the set works for unseen ones.
``pretrained`` starts from trained networks instead (adaptation to a new dataset, poisoning).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.func import functional_call
from torch.utils.checkpoint import checkpoint as grad_checkpoint

from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.graphed import GraphedBackward
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.methods import METHODS
from datadistill.models import create_model, create_seeded_model, draw_seed
from datadistill.models.factory import WEIGHT_INITS
from datadistill.settings import at_least, positive
from datadistill.synset import SetFileError, SyntheticSet

Params = dict[str, torch.Tensor]


@dataclass
class DDConfig(IterativeConfig):
    """Defaults of the reference code (LeNet on MNIST): one image per class per step, 3 epochs,
    rates initialised at 0.02, Adam (lr 0.01, β1 0.5) on the images, halved every 40 epochs of
    MNIST's 59 batches of 1,024 real images (2,360 iterations) for 400 epochs (23,600),
    Xavier-initialised networks."""

    init: str = "noise"
    model: str = "lenet"
    steps: int = 0  # GD steps per epoch; 0: ipc, i.e. one image per class per step
    epochs: int = 3
    net_init: str = "random"  # "fixed": one θ0 tied to the set; "random": fresh θ0 each iteration
    n_nets: int = 1  # initialisations per iteration (random init)
    weight_init: str = "xavier"  # of fresh networks: the reference code's, or PyTorch's "default"
    iterations: int = 23600
    lr_img: float = 0.01
    beta1: float = 0.5
    decay_every: int = 2360  # 40 epochs of MNIST at 1024 images per batch
    decay_factor: float = 0.5
    lr_init: float = 0.02
    learn_lr: bool = True
    batch_real: int = 1024
    # real minibatches of the outer loss: "replacement", drawn anew each iteration; "epochs",
    # shuffled passes over the training split with a smaller last batch (the reference's loader)
    real_batches: str = "replacement"
    soft_labels: bool = False
    # "raw": label vectors learned as they are (one-hot start, any real values: the SLDD code);
    # "simplex": a softmax of learned logits, so each label stays a distribution
    label_space: str = "raw"
    n_images: int = 0  # total images (0: ipc × classes); SLDD may use fewer than the classes
    grad_checkpoint: bool = False  # recompute inner steps in backward: memory O(1) in steps
    pretrained: str = ""  # safetensors file of stacked trained weights to start from
    attack: str = ""  # "A:B": make networks take class A for class B (poisoning)
    eval_model: str = "lenet"
    cuda_graph: bool = False  # replay each outer iteration as a CUDA graph (GPU only; see graphed)
    # cuDNN's TF32 convolutions (PyTorch's default) in the unrolled steps: faster on GPUs, and
    # over four θ0 no worse (benchmarks/README); off: full fp32, as the reference's GPUs ran
    tf32: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.net_init not in ("fixed", "random"):
            raise ValueError(f"net_init must be 'fixed' or 'random', got {self.net_init!r}")
        if self.weight_init not in WEIGHT_INITS:
            raise ValueError(
                f"weight_init must be one of {list(WEIGHT_INITS)}, got {self.weight_init!r}"
            )
        if self.real_batches not in ("replacement", "epochs"):
            raise ValueError(
                f"real_batches must be 'replacement' or 'epochs', got {self.real_batches!r}"
            )
        if self.label_space not in ("raw", "simplex"):
            raise ValueError(f"label_space must be 'raw' or 'simplex', got {self.label_space!r}")
        at_least(self, 1, "epochs", "n_nets", "decay_every", "batch_real")
        at_least(self, 0, "steps", "n_images")
        positive(self, "lr_init", "decay_factor")
        at_least(self, 0, "beta1")


def gd_step(model: torch.nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor, lr) -> Params:
    """One differentiable gradient-descent step of ``model`` at ``params`` on ``(x, y)``
    (``create_graph``: the new parameters stay functions of ``x``, ``y``, ``lr`` and ``params``)."""
    params = {k: p if p.requires_grad else p.detach().requires_grad_() for k, p in params.items()}
    loss = F.cross_entropy(functional_call(model, params, (x,)), y)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    return {k: p - lr * g for (k, p), g in zip(params.items(), grads, strict=True)}


def unroll(
    model: torch.nn.Module,
    params: Params,
    batches: list[tuple[torch.Tensor, torch.Tensor]],
    lrs: torch.Tensor,
    checkpoint: bool = False,
) -> Params:
    """Train from ``params`` through the schedule: step ``i`` on ``batches[i % len(batches)]`` with
    rate ``lrs[i]``; differentiable in the images, targets, rates and ``params``. With
    ``checkpoint`` each step's activations are recomputed during backward instead of kept."""
    for i, lr in enumerate(lrs):
        x, y = batches[i % len(batches)]
        if checkpoint:
            params = grad_checkpoint(gd_step, model, params, x, y, lr, use_reentrant=False)
        else:
            params = gd_step(model, params, x, y, lr)
    return params


def load_pretrained(path: str | Path, device: torch.device) -> list[Params]:
    """Trained networks saved by ``save_pretrained``: one state dict per network."""
    try:
        stacked = load_file(str(path), device=str(device))
    except Exception as e:
        raise SetFileError(
            f"{path}: not a readable weights file ({type(e).__name__}: {e})"
        ) from None
    sizes = {v.shape[0] for v in stacked.values()}
    if len(sizes) != 1:
        raise SetFileError(f"{path}: stacked weights disagree on the number of networks")
    return [{k: v[i] for k, v in stacked.items()} for i in range(sizes.pop())]


def save_pretrained(models: list[torch.nn.Module], path: str | Path) -> Path:
    """Stack the parameters of trained networks of one architecture into a safetensors file."""
    from safetensors.torch import save_file

    names = [k for k, _ in models[0].named_parameters()]
    stacked = {
        k: torch.stack([dict(m.named_parameters())[k].detach() for m in models]) for k in names
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous().cpu() for k, v in stacked.items()}, str(path))
    return path


@METHODS.register("dd")
class DD(IterativeDistillation):
    Config = DDConfig
    summary = "dataset distillation by unrolled training with learned step sizes (Wang et al. 2018)"
    execution_settings = (*IterativeDistillation.execution_settings, "cuda_graph", "tf32")

    def precision(self, device: torch.device) -> contextlib.AbstractContextManager:
        """``amp``'s context, and on a GPU cuDNN in full fp32 unless ``tf32``."""
        outer = super().precision(device)
        if device.type != "cuda" or self.config.tf32:
            return outer
        stack = contextlib.ExitStack()
        stack.enter_context(outer)
        stack.enter_context(_cudnn_without_tf32())
        return stack

    def layout(self, data: DataSplits, ipc: int) -> tuple[int, int]:
        """(steps, images per step)."""
        cfg = self.config
        total = cfg.n_images or ipc * data.info.num_classes
        steps = cfg.steps or (ipc if not cfg.n_images else 1)
        if total % steps:
            raise ValueError(f"{total} images do not split into {steps} equal steps")
        return steps, total // steps

    def slot_classes(self, data: DataSplits, ipc: int) -> list[list[int]]:
        """The classes each image of a step starts out as: ``i mod K`` when a step has at least
        as many images as classes, else image ``i`` takes the classes ``c ≡ i (mod images)``."""
        k = data.info.num_classes
        _, per_step = self.layout(data, ipc)
        if per_step >= k:
            return [[c] for c in torch.arange(k).repeat_interleave(per_step // k).tolist()]
        return [list(range(i, k, per_step)) for i in range(per_step)]

    def initial_set(self, data: DataSplits, ipc: int, generator: torch.Generator) -> SyntheticSet:
        steps, per_step = self.layout(data, ipc)
        k = data.info.num_classes
        if self.config.init == "noise" or per_step % k:
            if self.config.init != "noise":
                raise ValueError("images from a selection method need a multiple of the classes")
            images = torch.randn(steps * per_step, *data.info.shape, generator=generator)
            images = images.to(data.train.images.device)
        else:
            chosen = super().initial_set(data, ipc, generator).images  # class-ordered
            images = chosen.view(k, steps, per_step // k, *data.info.shape).transpose(0, 1)
            images = images.reshape(-1, *data.info.shape)
        slots = self.slot_classes(data, ipc)
        labels = torch.tensor([s[0] for s in slots] * steps, device=images.device)
        return SyntheticSet(images, labels, data.info, "init")

    def learned_extras(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        cfg = self.config
        device = data.train.images.device
        n_train, size = len(data.train), cfg.batch_real
        if cfg.cuda_graph and cfg.real_batches == "epochs" and n_train % size:
            raise ValueError(
                f"cuda_graph=True replays one batch shape, but real_batches='epochs' ends each"
                f" epoch of {n_train} images with a batch of {n_train % size}, not {size}: use"
                " real_batches='replacement' or a batch_real that divides the training split"
            )
        if cfg.cuda_graph and device.type != "cuda":
            raise ValueError(f"cuda_graph=True needs the data on a CUDA device, not {device}")
        self.graphed: GraphedBackward | None = None
        steps, per_step = self.layout(data, ipc)
        self.model = create_model(cfg.model, data.info).to(device)
        self.pool = load_pretrained(cfg.pretrained, device) if cfg.pretrained else None
        self.theta0: Params | None = None
        if cfg.net_init == "fixed":
            self.theta0 = self.pool[0] if self.pool else self._fresh(data, generator)
        self.steps = steps
        self.attack = self._parse_attack(data)
        # drawn only when used, so "replacement" runs keep the draws they always had
        self.order_seed = draw_seed(generator) if cfg.real_batches == "epochs" else 0
        self.order: tuple[int, torch.Tensor | None] = (-1, None)
        raw_lr = math.log(math.expm1(cfg.lr_init))  # softplus⁻¹: rates stay positive
        extra = {"raw_lrs": torch.full((steps * cfg.epochs,), raw_lr, device=device)}
        if cfg.soft_labels:
            k = data.info.num_classes
            probs = torch.zeros(per_step, k)
            for i, classes in enumerate(self.slot_classes(data, ipc)):
                probs[i, classes] = 1.0 / len(classes)
            if cfg.label_space == "raw":
                extra["label_values"] = probs.repeat(steps, 1).to(device)
            else:
                logits = (0.9 * probs + 0.1 / k).log().repeat(steps, 1)
                extra["label_logits"] = logits.to(device)
        return extra

    def make_optimizer(self, params: list[torch.Tensor], ipc: int) -> torch.optim.Optimizer:
        if not self.config.learn_lr:
            params = [p for p in params if p is not self.extra["raw_lrs"]]
        return torch.optim.Adam(params, lr=self.config.lr_img, betas=(self.config.beta1, 0.999))

    def make_set(
        self, data: DataSplits, images: torch.Tensor, labels: torch.Tensor, extra: dict
    ) -> SyntheticSet:
        out = SyntheticSet(
            images,
            _targets(extra, labels),
            data.info,
            type(self).__name__,
            lrs=F.softplus(extra["raw_lrs"]),
            zca=data.zca,
        )
        out.meta["steps"] = self.steps
        out.meta["net_init"] = self.config.net_init
        out.meta["weight_init"] = self.config.weight_init
        if self.theta0 is not None:
            out.extras.update({f"init.{k}": v.detach().clone() for k, v in self.theta0.items()})
        return out

    def step(self, data, images, labels, ipc, generator, opt) -> float:
        cfg = self.config
        for group in opt.param_groups:
            group["lr"] = cfg.lr_img * cfg.decay_factor ** (self.iteration // cfg.decay_every)
        device = images.device
        idx = self.real_indices(len(data.train), generator).to(device)
        x_real, y_real = data.train.images[idx], data.train.labels[idx]
        if self.attack is not None:
            y_real = torch.where(y_real == self.attack[0], self.attack[1], y_real)
        if self.theta0 is not None:
            nets = [self.theta0]
        else:
            nets = [self._fresh(data, generator) for _ in range(cfg.n_nets)]
        if cfg.cuda_graph:
            total = self._graphed_backward(images, labels, nets, x_real, y_real)
        else:
            opt.zero_grad(set_to_none=True)
            total = 0.0
            for theta in nets:
                loss = self.outer_loss(images, labels, theta, x_real, y_real) / len(nets)
                loss.backward()
                total += float(loss.detach())
        opt.step()
        return total

    def real_indices(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Indices of this iteration's real minibatch among ``n`` training images. For
        ``"epochs"`` the order of epoch ``e`` is a permutation seeded by ``order_seed + e``, so
        a resumed run draws the batches an uninterrupted one would."""
        size = self.config.batch_real
        if self.config.real_batches == "replacement":
            return torch.randint(n, (size,), generator=generator)
        epoch, batch = divmod(self.iteration, math.ceil(n / size))
        if self.order[0] != epoch:
            g = torch.Generator().manual_seed(self.order_seed + epoch)
            self.order = (epoch, torch.randperm(n, generator=g))
        return self.order[1][batch * size : (batch + 1) * size]

    def _graphed_backward(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        nets: list[Params],
        x_real: torch.Tensor,
        y_real: torch.Tensor,
    ) -> float:
        """The gradients of the mean outer loss over ``nets``, by replaying one captured graph
        per network (the graph overwrites ``.grad``, so several networks are summed aside)."""
        leaves = [images, *self.extra.values()]
        if self.graphed is None:
            names = list(nets[0])

            def loss_fn(x: torch.Tensor, y: torch.Tensor, *theta: torch.Tensor) -> torch.Tensor:
                return self.outer_loss(images, labels, dict(zip(names, theta, strict=True)), x, y)

            self.graphed = GraphedBackward(loss_fn, leaves)
        total, sums = 0.0, None
        for theta in nets:
            total += float(self.graphed(x_real, y_real, *theta.values()).detach()) / len(nets)
            if len(nets) > 1:
                grads = [leaf.grad.clone() for leaf in leaves]
                sums = grads if sums is None else [a + g for a, g in zip(sums, grads, strict=True)]
        if sums is not None:
            for leaf, g in zip(leaves, sums, strict=True):
                leaf.grad.copy_(g / len(nets))
        return total

    def outer_loss(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        theta: Params,
        x_real: torch.Tensor,
        y_real: torch.Tensor,
    ) -> torch.Tensor:
        """Loss on ``(x_real, y_real)`` of the network trained from ``theta`` on the schedule."""
        targets = _targets(self.extra, labels)
        batches = list(zip(images.chunk(self.steps), targets.chunk(self.steps), strict=True))
        lrs = F.softplus(self.extra["raw_lrs"])
        trained = unroll(self.model, theta, batches, list(lrs), self.config.grad_checkpoint)
        return F.cross_entropy(functional_call(self.model, trained, (x_real,)), y_real)

    def _fresh(self, data: DataSplits, generator: torch.Generator) -> Params:
        """A new initialisation: from the model's own init, or a network of the pretrained pool."""
        if self.pool:
            return self.pool[int(torch.randint(len(self.pool), (1,), generator=generator))]
        cfg = self.config
        net = create_seeded_model(
            cfg.model, data.info, draw_seed(generator), "cpu", cfg.weight_init
        )
        return {k: v.detach().to(data.train.images.device) for k, v in net.named_parameters()}

    def _parse_attack(self, data: DataSplits) -> tuple[int, int] | None:
        if not self.config.attack:
            return None
        try:
            a, b = (int(c) for c in self.config.attack.split(":"))
        except ValueError:
            raise ValueError(
                f"attack must be 'A:B' (class indices), got {self.config.attack!r}"
            ) from None
        k = data.info.num_classes
        if not (0 <= a < k and 0 <= b < k) or a == b:
            raise ValueError(f"attack classes must be two different classes in 0..{k - 1}")
        return a, b


@contextlib.contextmanager
def _cudnn_without_tf32() -> Iterator[None]:
    """cuDNN convolutions in full fp32 for the duration (the flag is restored after)."""
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = before


def _targets(extra: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
    """The training targets: the learned soft labels where there are any, else ``labels``."""
    if "label_logits" in extra:
        return extra["label_logits"].softmax(1)
    return extra.get("label_values", labels)


@dataclass
class SLDDConfig(DDConfig):
    soft_labels: bool = True


@METHODS.register("sldd")
class SLDD(DD):
    Config = SLDDConfig
    summary = "dataset distillation with learned soft labels (Sucholutsky & Schonlau 2019)"


def as_schedule(
    synset: SyntheticSet,
    steps: int,
    epochs: int,
    lr: float,
    model: str,
    weight_init: str = "default",
) -> SyntheticSet:
    """A class-ordered set (a selection, a baseline) replayed like a DD set: ``steps`` batches of
    one image-group per class, ``epochs`` passes, constant rate ``lr``. A set with one image per
    class and ``steps=1`` is the same batch reused in every step."""
    k = synset.info.num_classes
    ipc = len(synset.images) // k
    if ipc * k != len(synset.images) or ipc % steps:
        raise ValueError(f"{len(synset.images)} images do not split into {steps} steps per class")
    order = torch.arange(k * ipc).view(k, steps, ipc // steps).transpose(0, 1).reshape(-1)
    out = SyntheticSet(
        synset.images[order],
        synset.labels[order],
        synset.info,
        synset.method,
        config={**synset.config, "model": model},
        seed=synset.seed,
        ipc=synset.ipc,
        lrs=torch.full((steps * epochs,), float(lr)),
        zca=synset.zca,
    )
    out.meta = {**synset.meta, "steps": steps, "weight_init": weight_init}
    return out
