"""The trainer registry: a trainer is a function ``(task, generator, opt) -> loss`` that runs one
outer iteration (it sets the gradients of ``task.phi`` and steps ``opt``) and returns its outer
loss. Adding one is a file with ``@TRAINERS.register("name")`` and one import line."""

from __future__ import annotations

from collections.abc import Callable

import torch

from datadistill.gtn.task import Task
from datadistill.registry import Registry

Trainer = Callable[[Task, torch.Generator, torch.optim.Optimizer], float]
TRAINERS: Registry[Trainer] = Registry("trainer", ("datadistill.gtn.trainers",))
