"""``bptt``: the GTN paper's meta-gradient. A fresh learner takes ``inner_steps`` differentiable
SGD steps on generated batches; its loss on a real batch is back-propagated through all of them
to the generator, the curriculum and the learned rate and momentum. Memory grows with the steps;
``checkpointing`` recomputes each step's activations during backward instead of keeping them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import functional_call
from torch.utils.checkpoint import checkpoint

from datadistill.gtn.task import Task
from datadistill.gtn.trainers.base import TRAINERS


def unrolled_loss(task: Task, generator: torch.Generator) -> torch.Tensor:
    """The outer loss, a function of ``task.phi`` through every inner step."""
    learner, buffers, params, velocity = task.start(generator)
    for k in range(task.config.inner_steps):
        z, y = task.noise(k, generator)
        args = (learner, buffers, params, velocity, z, y, True)
        if task.config.checkpointing:
            params, velocity = checkpoint(task.inner_step, *args, use_reentrant=False)
        else:
            params, velocity = task.inner_step(*args)
    x, y = task.real_batch(generator)
    return F.cross_entropy(functional_call(learner, (params, buffers), (x,)), y)


@TRAINERS.register("bptt")
def bptt(task: Task, generator: torch.Generator, opt: torch.optim.Optimizer) -> float:
    opt.zero_grad(set_to_none=True)
    loss = unrolled_loss(task, generator)
    loss.backward()
    opt.step()
    return float(loss.detach())
