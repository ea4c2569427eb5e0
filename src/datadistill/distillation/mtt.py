"""``mtt``: matching training trajectories (Cazenavette et al. 2022), with TESLA's memory-bounded
gradient (Cui et al. 2023) as ``gradient="tesla"``.

Per iteration: a random expert (``experts``) and start epoch ``t ≤ max_start_epoch``; a student
starts at the expert's ``θ*_t`` and takes ``syn_steps`` plain gradient steps on mini-batches of the
DSA-augmented synthetic images with the learned rate ``α``; the loss is
``‖θ_N − θ*_{t+M}‖² / ‖θ*_t − θ*_{t+M}‖²`` (``M = expert_epochs``). Images and ``α`` move by SGD
with momentum (separate rates ``lr_img``, ``lr_lr``, as the reference); ``α`` is stored in the set
(``meta["learned_lr"]``) and the evaluation protocol trains at it. ``soft_labels``: learned label
logits initialised from an expert's logits on the initial images (TESLA/DATM style).

Gradients (both exact, equal to float tolerance, see tests/test_mtt.py):

- ``"unroll"``: autograd through the whole unrolled student; memory holds every step's
  activations and double-backward graph, so it grows linearly in ``syn_steps``.
- ``"tesla"``: a forward pass without a graph that stores only the student's parameters
  ``θ_k`` per step (``syn_steps × params`` floats), the batch indices and augmentation
  parameters; then reverse mode
  over the steps with the adjoint ``a_k = dL/dθ_k``: step ``k``'s graph is rebuilt from ``θ_k``,
  and one vector-Jacobian product of its gradient ``g_k`` gives
  ``dL/dX += −α (∂g_k/∂X)ᵀ a_{k+1}``, ``dL/dα += −g_kᵀ a_{k+1}`` and
  ``a_k = a_{k+1} − α (∂g_k/∂θ_k)ᵀ a_{k+1}`` (a Hessian-vector product), after which that graph
  is freed. At most one step's graph is alive, so the activation memory does not depend on
  ``syn_steps``; only the stored ``θ_k`` do (small next to one step's activations). Measured on
  MNIST IPC 1 with ConvNet-w32 (benchmarks/results/mtt-cpu.json): one iteration's extra peak
  memory at syn_steps 10/20/40/80 is 8/11/19/19 MB with ``tesla`` and 75/165/341/682 MB
  unrolled, at the same speed.

Batch-norm models update running statistics in each forward pass (``tesla`` runs every step's
forward twice), so the two gradients agree only for models without batch norm (the default
ConvNet uses instance norm).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from datadistill.datasets.augmentation import Augmentation, create_augmentation
from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.experts import ExpertConfig, Trajectory, expert_trajectories
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.methods import METHODS
from datadistill.models import create_model
from datadistill.settings import at_least, one_of, positive
from datadistill.synset import SyntheticSet

Params = dict[str, torch.Tensor]
# One student step: the indices of its synthetic mini-batch and its augmentation parameters.
Step = tuple[torch.Tensor, dict[str, Any]]


@dataclass
class MTTConfig(IterativeConfig):
    """The reference's CIFAR-10 IPC-10 settings where they apply (lr_lr 1e-5, lr_teacher 0.01,
    momentum 0.5, expert_epochs 2); ``syn_steps``, ``max_start_epoch``, ``experts`` and
    ``iterations`` are smaller, sized for a CPU (the reference: 30, 20, 100, 5000), and
    ``lr_img`` is 100, not the reference's 1000 on ZCA-whitened CIFAR-10 (1000 diverges on the
    unwhitened digits)."""

    iterations: int = 1000
    lr_img: float = 100.0
    momentum: float = 0.5
    lr_lr: float = 1e-5
    lr_teacher: float = 0.01  # the experts' rate and the learned rate's start
    lr_label: float = 10.0
    model: str = "convnet"
    experts: int = 5
    expert_epochs: int = 2
    max_start_epoch: int = 2
    # epochs the experts are trained for (0: max_start_epoch + expert_epochs, the least a run
    # needs); a run reads only the first max_start_epoch + expert_epochs of them
    trajectory_epochs: int = 0
    expert_batch: int = 256
    expert_augment: str = "dsa"
    expert_seed: int = 0
    syn_steps: int = 20
    batch_syn: int = 0  # images per student step (0: the whole set)
    gradient: str = "unroll"  # or "tesla": the same gradient, memory independent of syn_steps
    augment: str = "dsa"
    dsa_strategy: str = "color_crop_cutout_flip_scale_rotate"
    soft_labels: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, 1, "experts", "expert_epochs", "syn_steps", "expert_batch")
        at_least(self, 0, "max_start_epoch", "trajectory_epochs", "batch_syn")
        positive(self, "lr_lr", "lr_teacher", "lr_label")
        one_of(self, "gradient", ("unroll", "tesla"))
        if self.trajectory_epochs and self.needed_epochs > self.trajectory_epochs:
            raise ValueError(
                f"max_start_epoch + expert_epochs = {self.needed_epochs} is beyond the experts' "
                f"trajectory_epochs={self.trajectory_epochs}"
            )

    @property
    def needed_epochs(self) -> int:
        return self.max_start_epoch + self.expert_epochs

    def experts_config(self) -> ExpertConfig:
        return ExpertConfig(
            self.model, self.lr_teacher, self.expert_batch, self.expert_augment, self.expert_seed
        )


def _step_gradient(
    model: torch.nn.Module,
    params: Params,
    x: torch.Tensor,
    targets: torch.Tensor,
    create_graph: bool,
) -> tuple[torch.Tensor, ...]:
    loss = F.cross_entropy(functional_call(model, params, (x,)), targets)
    return torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)


def _inputs(
    images: torch.Tensor,
    targets: torch.Tensor,
    step: Step,
    aug: Augmentation,
) -> tuple[torch.Tensor, torch.Tensor]:
    idx, aug_params = step
    return aug.apply(images[idx], aug_params), targets[idx]


def _normalised_distance(
    params: Params, start: Params, target: Params
) -> tuple[torch.Tensor, torch.Tensor]:
    """(‖θ − θ*‖², ‖θ_0 − θ*‖²) summed over all parameters."""
    num = sum((params[k] - target[k]).square().sum() for k in target)
    den = sum((start[k] - target[k]).square().sum() for k in target)
    return num, den


def trajectory_loss_and_grads(
    model: torch.nn.Module,
    start: Params,
    target: Params,
    images: torch.Tensor,
    targets_of: Callable[[], torch.Tensor],
    lr: torch.Tensor,
    steps: list[Step],
    aug: Augmentation,
    gradient: str = "unroll",
    label_leaf: torch.Tensor | None = None,
) -> tuple[float, list[torch.Tensor]]:
    """MTT's loss for a student trained from ``start`` over ``steps`` and its gradients with
    respect to ``images``, ``lr`` and (when given) ``label_leaf``, from which ``targets_of()``
    computes the training targets. ``gradient``: ``"unroll"`` or ``"tesla"`` (module docstring)."""
    leaves = [images, lr] + ([label_leaf] if label_leaf is not None else [])
    start = {k: v.detach() for k, v in start.items()}
    target = {k: v.detach() for k, v in target.items()}
    if gradient == "unroll":
        params = {k: v.clone().requires_grad_(True) for k, v in start.items()}
        targets = targets_of()
        for step in steps:
            x, y = _inputs(images, targets, step, aug)
            grads = _step_gradient(model, params, x, y, create_graph=True)
            params = {k: p - lr * g for (k, p), g in zip(params.items(), grads, strict=True)}
        num, den = _normalised_distance(params, start, target)
        loss = num / den
        return float(loss.detach()), list(torch.autograd.grad(loss, leaves, allow_unused=True))
    # TESLA: a forward pass storing θ_k only, then reverse mode over the steps
    alpha = lr.detach()
    with torch.no_grad():
        fixed_targets = targets_of()
    thetas = [start]
    params = start
    for step in steps:
        x, y = _inputs(images.detach(), fixed_targets, step, aug)
        p = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        grads = _step_gradient(model, p, x, y, create_graph=False)
        params = {k: v - alpha * g for (k, v), g in zip(params.items(), grads, strict=True)}
        thetas.append(params)
    num, den = _normalised_distance(params, start, target)
    adjoint = {k: 2 * (params[k] - target[k]) / den for k in target}
    g_images = torch.zeros_like(images)
    g_lr = torch.zeros_like(lr)
    g_label = None if label_leaf is None else torch.zeros_like(label_leaf)
    for k in range(len(steps) - 1, -1, -1):
        p = {n: v.detach().requires_grad_(True) for n, v in thetas[k].items()}
        targets = targets_of() if label_leaf is not None else fixed_targets
        x, y = _inputs(images, targets, steps[k], aug)
        grads = _step_gradient(model, p, x, y, create_graph=True)
        a = [adjoint[n] for n in p]
        wrt = [*p.values(), images] + ([label_leaf] if label_leaf is not None else [])
        vjp = torch.autograd.grad(grads, wrt, grad_outputs=a, allow_unused=True)
        with torch.no_grad():
            g_lr -= sum((g * v).sum() for g, v in zip(grads, a, strict=True))
            n_par = len(p)
            g_images -= alpha * vjp[n_par]
            if g_label is not None and vjp[n_par + 1] is not None:
                g_label -= alpha * vjp[n_par + 1]
            adjoint = {n: adjoint[n] - alpha * h for n, h in zip(p, vjp[:n_par], strict=True)}
    loss = float(num / den)
    return loss, [g_images, g_lr] + ([g_label] if g_label is not None else [])


@METHODS.register("mtt")
class MTT(IterativeDistillation):
    Config = MTTConfig
    # both gradients are exact: a run may be resumed with the other
    execution_settings = (*IterativeDistillation.execution_settings, "gradient")
    summary = (
        "matching training trajectories of experts (Cazenavette et al. 2022); "
        "gradient='tesla': TESLA's memory-bounded exact gradient (Cui et al. 2023)"
    )

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        self.progress = progress
        return super().run(data, ipc, generator, progress)

    def prepare(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        self.trajectories: list[Trajectory] = expert_trajectories(
            data,
            cfg.experts_config(),
            cfg.experts,
            max(cfg.trajectory_epochs, cfg.needed_epochs),
            progress=getattr(self, "progress", False),
        )
        if cfg.trajectory_epochs:  # keep only the epochs this run reads
            keep = cfg.needed_epochs + 1
            self.trajectories = [{k: v[:keep] for k, v in t.items()} for t in self.trajectories]
        self.model = create_model(cfg.model, data.info).to(data.train.images.device)
        images, labels = super().prepare(data, ipc, generator)
        if cfg.soft_labels:  # logits of the expert's end point on the initial images
            end = {k: v[cfg.needed_epochs] for k, v in self.trajectories[0].items()}
            with torch.no_grad():
                logits = functional_call(self.model, end, (images.detach(),))
            self.extra["label_logits"] = logits.detach().clone().requires_grad_(True)
        return images, labels

    def learned_extras(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        device = data.train.images.device
        return {"syn_lr": torch.tensor(self.config.lr_teacher, device=device)}

    def make_optimizer(self, params: list[torch.Tensor], ipc: int) -> torch.optim.Optimizer:
        cfg = self.config
        images, lr, *labels = params
        groups = [{"params": [images], "lr": cfg.lr_img}, {"params": [lr], "lr": cfg.lr_lr}]
        if labels:
            groups.append({"params": labels, "lr": cfg.lr_label})
        return torch.optim.SGD(groups, lr=cfg.lr_img, momentum=cfg.momentum)

    def make_set(
        self, data: DataSplits, images: torch.Tensor, labels: torch.Tensor, extra: dict
    ) -> SyntheticSet:
        targets = extra["label_logits"].softmax(1) if "label_logits" in extra else labels
        out = SyntheticSet(images, targets, data.info, type(self).__name__, zca=data.zca)
        out.meta["learned_lr"] = float(extra["syn_lr"])
        return out

    def plan(self, n_images: int, generator: torch.Generator, aug: Augmentation) -> list[Step]:
        """The mini-batches and augmentations of one student trajectory (MTT draws batches from
        successive random permutations of the set)."""
        cfg = self.config
        size = cfg.batch_syn or n_images
        steps: list[Step] = []
        order = torch.empty(0, dtype=torch.long)
        for _ in range(cfg.syn_steps):
            if len(order) < size:
                order = torch.cat([order, torch.randperm(n_images, generator=generator)])
            idx, order = order[:size], order[size:]
            steps.append((idx, aug.sample(size, generator)))
        return steps

    def step(self, data, images, labels, ipc, generator, opt) -> float:
        cfg = self.config
        aug = create_augmentation(
            cfg.augment,
            flip=data.info.flip,
            **({"strategy": cfg.dsa_strategy} if cfg.augment == "dsa" else {}),
        )
        expert = self.trajectories[int(torch.randint(cfg.experts, (1,), generator=generator))]
        t = int(torch.randint(cfg.max_start_epoch + 1, (1,), generator=generator))
        start = {k: v[t] for k, v in expert.items()}
        target = {k: v[t + cfg.expert_epochs] for k, v in expert.items()}
        steps = [(idx.to(images.device), p) for idx, p in self.plan(len(images), generator, aug)]
        logits = self.extra.get("label_logits")
        loss, grads = trajectory_loss_and_grads(
            self.model,
            start,
            target,
            images,
            (lambda: logits.softmax(1)) if logits is not None else (lambda: labels),
            self.extra["syn_lr"],
            steps,
            aug,
            cfg.gradient,
            logits,
        )
        opt.zero_grad(set_to_none=True)
        leaves = [images, self.extra["syn_lr"], *([logits] if logits is not None else [])]
        for leaf, g in zip(leaves, grads, strict=True):
            leaf.grad = None if g is None else g.detach()
        opt.step()
        return loss
