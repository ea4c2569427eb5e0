"""``ift``: the implicit-function-theorem hypergradient (Lorraine et al. 2019). The learner takes
its ``inner_steps`` without a graph and is treated as near a stationary point of its training
loss on generated data; the hypergradient needs only Hessian-vector products there
(``neumann_steps`` of them, step ``neumann_lr``), so memory does not grow with the steps.

The training loss at the end is taken on one generated batch: a curriculum's batch of a random
inner step (an unbiased one-batch estimate of the mean over its steps), else a fresh draw. The
learned rate and momentum do not enter that stationarity condition and so get no gradient here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import functional_call

from datadistill.gtn.hypergrad import implicit_hypergradient
from datadistill.gtn.task import Task
from datadistill.gtn.trainers.base import TRAINERS


def ift_gradients(task: Task, generator: torch.Generator) -> tuple[float, tuple[torch.Tensor, ...]]:
    """The outer loss and its hypergradient for each tensor of ``task.phi``."""
    cfg = task.config
    learner, buffers, params, velocity = task.start(generator)
    for k in range(cfg.inner_steps):
        z, y = task.noise(k, generator)
        params, velocity = task.inner_step(learner, buffers, params, velocity, z, y, False)
    step = int(torch.randint(cfg.inner_steps, (1,), generator=generator))
    z, y = task.noise(step, generator)
    x_real, y_real = task.real_batch(generator)
    names = list(params)

    def forward(theta: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(learner, (dict(zip(names, theta, strict=True)), buffers), (x,))

    def train_loss(theta: list[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(forward(theta, task.generate(z, y)), y)

    def val_loss(theta: list[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(forward(theta, x_real), y_real)

    phi = list(task.phi.values())
    grads = implicit_hypergradient(
        train_loss, val_loss, list(params.values()), phi, cfg.neumann_steps, cfg.neumann_lr
    )
    with torch.no_grad():
        loss = float(val_loss(list(params.values())))
    return loss, grads


@TRAINERS.register("ift")
def ift(task: Task, generator: torch.Generator, opt: torch.optim.Optimizer) -> float:
    loss, grads = ift_gradients(task, generator)
    opt.zero_grad(set_to_none=True)
    for p, g in zip(task.phi.values(), grads, strict=True):
        p.grad = g
    opt.step()
    return loss
