"""``matching``: the generator learns, as DC's images do, to make a learner's gradients on its
batches match those on real batches of the same class (DC's ``distance``). Per outer iteration a
fresh learner; at each of its ``inner_steps`` one generator update, then the learner moves on by
one SGD step (at the generator's inner rate and momentum, not learned here) on the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from datadistill.distillation.dc import _set_batchnorm_from_real, class_gradients
from datadistill.distillation.losses import DISTANCES
from datadistill.gtn.task import Task
from datadistill.gtn.trainers.base import TRAINERS


@TRAINERS.register("matching")
def matching(task: Task, generator: torch.Generator, opt: torch.optim.Optimizer) -> float:
    cfg, data = task.config, task.data
    k = data.info.num_classes
    per = cfg.batch_size // k
    if per < 1:
        raise ValueError(f"trainer='matching' needs batch_size >= the {k} classes")
    n_real = max(1, cfg.batch_real // k)
    distance = DISTANCES.get(cfg.distance)
    learner = task.new_learner(generator)
    with torch.no_grad():
        inner = torch.optim.SGD(
            learner.parameters(), lr=float(task.lr()), momentum=float(task.momentum())
        )
    total = 0.0
    for step in range(cfg.inner_steps):
        _set_batchnorm_from_real(learner, data, cfg.bn_images_per_class, generator)
        real_x = torch.stack([data.train.sample(c, n_real, generator) for c in range(k)])
        real_y = torch.arange(k, device=task.device).view(k, 1).expand(k, n_real)
        z, y = task.noise(step, generator)
        x = task.generate(z, y)
        order = torch.arange(per * k, device=task.device).view(per, k).t()  # (k, per): i mod k = c
        g_real = class_gradients(learner, real_x, real_y, False, keep_graph=False)
        g_syn = class_gradients(learner, x[order], y[order], False, keep_graph=True)
        loss = distance(g_real, g_syn)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += float(loss.detach())
        inner.zero_grad(set_to_none=True)
        F.cross_entropy(learner(x.detach()), y).backward()
        inner.step()
    return total / cfg.inner_steps
