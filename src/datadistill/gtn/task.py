"""What every GTN trainer works on: the generator with its learned tensors φ, the data, fresh
learners, and one inner SGD-with-momentum step of a learner (functional, so it can be unrolled)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from datadistill.datasets.tensorset import DataSplits
from datadistill.gtn.generator import TeachingGenerator

Params = dict[str, torch.Tensor]


def sgd_step(
    learner: nn.Module,
    buffers: Params,
    params: Params,
    velocity: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    lr: torch.Tensor | float,
    momentum: torch.Tensor | float,
    create_graph: bool,
) -> tuple[Params, Params]:
    """``v ← μv + ∇L(θ; x, y)``, ``θ ← θ − αv``. With ``create_graph`` the result stays a
    function of ``x``, ``α``, ``μ`` and the inputs; without, it is detached (no graph is kept)."""
    params = {k: p if p.requires_grad else p.detach().requires_grad_() for k, p in params.items()}
    loss = F.cross_entropy(functional_call(learner, (params, buffers), (x,)), y)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)
    new_v, new_p = {}, {}
    for (k, p), g in zip(params.items(), grads, strict=True):
        new_v[k] = momentum * velocity[k] + g
        new_p[k] = p - lr * new_v[k]
    if not create_graph:
        new_p = {k: v.detach() for k, v in new_p.items()}
        new_v = {k: v.detach() for k, v in new_v.items()}
    return new_p, new_v


@dataclass
class Task:
    """``phi``: the learned leaves by the generator's parameter names (those not learned keep
    the generator's own values); ``config``: the method's settings (``inner_steps``,
    ``batch_size``, ``batch_real``, ...); ``new_learner``: a fresh learner per call."""

    teacher: TeachingGenerator
    phi: Params
    data: DataSplits
    config: Any
    new_learner: Callable[[torch.Generator], nn.Module]

    @property
    def device(self) -> torch.device:
        return self.data.train.images.device

    def param(self, name: str) -> torch.Tensor:
        return self.phi[name] if name in self.phi else getattr(self.teacher, name)

    def lr(self) -> torch.Tensor:
        return F.softplus(self.param("raw_lr"))

    def momentum(self) -> torch.Tensor:
        return torch.sigmoid(self.param("raw_momentum"))

    def generate(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Images of the generator at ``phi`` (differentiable in ``phi``)."""
        return functional_call(self.teacher, self.phi, (z, y), strict=False)

    def noise(self, step: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The noise and labels of inner step ``step``: the curriculum's learned batch, else a
        fresh draw from ``generator``."""
        n = self.config.batch_size
        y = self.teacher.batch_labels(n)
        if self.teacher.noise is not None:
            noise = self.param("noise")
            return noise[step % len(noise)], y
        z = torch.randn(n, self.teacher.config.noise_dim, generator=generator)
        return z.to(self.device), y

    def real_batch(self, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch_real`` training images drawn with replacement."""
        train = self.data.train
        idx = torch.randint(len(train), (self.config.batch_real,), generator=generator)
        idx = idx.to(self.device)
        return train.images[idx], train.labels[idx]

    def inner_step(
        self,
        learner: nn.Module,
        buffers: Params,
        params: Params,
        velocity: Params,
        z: torch.Tensor,
        y: torch.Tensor,
        create_graph: bool,
    ) -> tuple[Params, Params]:
        """One learner step on the generated batch for ``z``, ``y`` at the learned rate and
        momentum; without ``create_graph`` the generator runs without a graph too."""
        if create_graph:
            x, lr, mom = self.generate(z, y), self.lr(), self.momentum()
        else:
            with torch.no_grad():
                x, lr, mom = self.generate(z, y), self.lr(), self.momentum()
        return sgd_step(learner, buffers, params, velocity, x, y, lr, mom, create_graph)

    def start(self, generator: torch.Generator) -> tuple[nn.Module, Params, Params, Params]:
        """A fresh learner, its buffers, its parameters θ0 (detached) and a zero velocity."""
        learner = self.new_learner(generator)
        params = {k: p.detach() for k, p in learner.named_parameters()}
        velocity = {k: torch.zeros_like(p) for k, p in params.items()}
        return learner, dict(learner.named_buffers()), params, velocity
