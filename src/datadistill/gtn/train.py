"""``train_generator``: the API entry for callers that want the generator, not a set (and may
pass their own learners, e.g. an architecture-search sampler)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from datadistill.datasets.tensorset import DataSplits
from datadistill.gtn.generator import TeachingGenerator, generator_of


def train_generator(
    data: DataSplits,
    config: dict[str, Any] | Any = None,
    *,
    learner_factory: Callable[[torch.Generator], nn.Module] | None = None,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> TeachingGenerator:
    """Train a generator with method ``gtn``'s settings ``config`` (a dict or ``GTNConfig``);
    ``learner_factory(generator)`` makes each fresh learner instead of ``config.learner``."""
    from dataclasses import is_dataclass

    from datadistill.distillation.gtn import GTN, GTNConfig
    from datadistill.settings import make_config

    cfg = config if is_dataclass(config) else make_config(GTNConfig, config or {})
    generator = torch.Generator().manual_seed(seed)
    method = GTN(cfg, checkpoint, learner_factory=learner_factory)
    return generator_of(method.run(data, 1, generator, progress=progress))
