"""``gtn``: generative teaching networks (Such, Rawal, Lehman, Stanley & Clune 2020).

A conditional generator (``datadistill.gtn.TeachingGenerator``) is trained so that fresh learners
trained ``inner_steps`` SGD steps on its batches do well on real data; ``trainer`` picks how:
``bptt`` (back-propagation through the inner steps, the paper's), ``ift`` (implicit
hypergradients, memory flat in the steps) or ``matching`` (DC's gradient matching). The shared
outer loop is ``IterativeDistillation``'s: the generator's parameters are its learned extras
(Adam at ``lr_img``), so checkpoints, resume, validation and ``keep`` work unchanged; the loop's
images are the set the generator emits, refreshed after every iteration. The set holds the
generator (``generator.*`` extras, its config in ``meta["generator"]``), so
``datadistill.gtn.load_generator`` rebuilds it from the set file or from the generator file the
command line writes beside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.distillation.losses import DISTANCES
from datadistill.gtn.generator import SET_PREFIX, TeachingGenerator, config_from, generator_state
from datadistill.gtn.task import Task
from datadistill.gtn.trainers.base import TRAINERS
from datadistill.methods import METHODS
from datadistill.models import create_seeded_model, draw_seed
from datadistill.models.factory import MODELS, WEIGHT_INITS
from datadistill.settings import at_least, one_of, positive
from datadistill.synset import SyntheticSet

LearnerFactory = Callable[[torch.Generator], nn.Module]


@dataclass
class GTNConfig(IterativeConfig):
    """``lr_img`` is Adam's rate on the generator (the outer rate, as in every iterative method);
    ``momentum`` (SGD on images) and ``init`` are not used. ``curriculum``: one learned noise
    batch per inner step, the paper's best variant. ``lr_img`` and ``lr_inner`` are chosen on
    ``digits`` with a ConvNet (few inner steps move a learner little at smaller rates), not
    taken from the paper."""

    iterations: int = 500
    lr_img: float = 0.01
    beta1: float = 0.9
    trainer: str = "bptt"
    learner: str = "convnet"
    # a search space (datadistill.nas.SPACES): each outer iteration's learner is one of its
    # candidates, drawn at random, so the generator teaches the whole space (GTN-NAS)
    learner_space: str = ""
    weight_init: str = "default"
    inner_steps: int = 16
    batch_size: int = 64  # generated images per inner step
    batch_real: int = 128  # real images of the outer loss (matching: split over the classes)
    lr_inner: float = 0.1  # the learner's rate (and the learned rate's start)
    momentum_inner: float = 0.5
    learn_lr: bool = True
    learn_momentum: bool = True
    curriculum: bool = True
    noise_dim: int = 32
    width: int = 32  # of the generator
    checkpointing: bool = False  # bptt: recompute each inner step in backward
    neumann_steps: int = 10  # ift
    neumann_lr: float = 0.01  # ift
    distance: str = "layerwise"  # matching
    bn_images_per_class: int = 16  # matching, learners with batch norm

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of(self, "trainer", tuple(TRAINERS.names()))
        one_of(self, "distance", tuple(DISTANCES.names()))
        one_of(self, "weight_init", WEIGHT_INITS)
        if self.learner not in MODELS:
            raise ValueError(
                f"unknown learner {self.learner!r}; known: {', '.join(MODELS.names())}"
            )
        if self.learner_space:
            from datadistill.nas.space import SPACES

            SPACES.get(self.learner_space)
        at_least(self, 1, "inner_steps", "batch_size", "batch_real", "noise_dim", "width")
        at_least(self, 1, "bn_images_per_class")
        at_least(self, 0, "neumann_steps", "beta1")
        positive(self, "lr_inner", "neumann_lr")
        if not 0 <= self.momentum_inner < 1:
            raise ValueError(f"momentum_inner must be in [0, 1), got {self.momentum_inner}")
        if self.beta1 >= 1:
            raise ValueError(f"beta1 must be < 1, got {self.beta1}")


@METHODS.register("gtn")
class GTN(IterativeDistillation):
    Config = GTNConfig
    summary = (
        "generative teaching networks: a generator that teaches learners fast (Such et al. 2020)"
    )
    execution_settings = (*IterativeDistillation.execution_settings, "checkpointing")

    def __init__(
        self,
        config: GTNConfig | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        learner_factory: LearnerFactory | None = None,
    ) -> None:
        """``learner_factory``: fresh learners drawn from a generator (e.g. a sampler of candidate
        architectures) instead of ``config.learner``; a checkpoint records it by name."""
        super().__init__(config, checkpoint)
        self.learner_factory = self.given_factory = learner_factory

    def _state_key(self, ipc: int) -> dict[str, Any]:
        """A factory handed in is part of what a checkpoint must agree on, by its qualified name
        (a checkpoint of other learners resumes nothing; the factory's arguments are not seen)."""
        key = super()._state_key(ipc)
        if self.given_factory is not None:
            fn = getattr(self.given_factory, "func", self.given_factory)  # a partial's function
            name = getattr(fn, "__qualname__", type(fn).__qualname__)
            key["config"]["learner_factory"] = f"{getattr(fn, '__module__', '')}.{name}"
        return key

    def initial_set(self, data: DataSplits, ipc: int, generator: torch.Generator) -> SyntheticSet:
        """Builds the generator (seeded from ``generator``) and returns what it emits."""
        cfg = self.config
        settings = {
            "noise_dim": cfg.noise_dim,
            "width": cfg.width,
            "curriculum_steps": cfg.inner_steps if cfg.curriculum else 0,
            "batch_size": cfg.batch_size,
            "lr_init": cfg.lr_inner,
            "momentum_init": cfg.momentum_inner,
        }
        gen_config = config_from(data.info, data.train.images, **settings)
        device = data.train.images.device
        self.teacher = TeachingGenerator(gen_config, draw_seed(generator)).to(device)
        self.emit_seed, self.ipc = draw_seed(generator), ipc
        return self.teacher.emit(ipc, self.emit_seed)

    def learned_extras(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        cfg = self.config
        learned = {"raw_lr": cfg.learn_lr, "raw_momentum": cfg.learn_momentum}
        fixed = {name for name, learn in learned.items() if not learn}
        return {n: p for n, p in self.teacher.named_parameters() if n not in fixed}

    def make_optimizer(self, params: list[torch.Tensor], ipc: int) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.config.lr_img, betas=(self.config.beta1, 0.999))

    def learner(self, generator: torch.Generator) -> nn.Module:
        """A fresh learner: from ``learner_factory`` if given, else a candidate of
        ``config.learner_space`` if set, else a seeded ``config.learner``."""
        device = self.teacher.mid.device
        cfg = self.config
        info = self.teacher.config.dataset
        if self.learner_factory is None and cfg.learner_space:
            from datadistill.nas.space import SPACES

            self.learner_factory = SPACES.get(cfg.learner_space).sampler(info)
        if self.learner_factory is not None:
            return self.learner_factory(generator).to(device)
        return create_seeded_model(cfg.learner, info, draw_seed(generator), device, cfg.weight_init)

    def step(self, data, images, labels, ipc, generator, opt) -> float:
        task = Task(self.teacher, self.extra, data, self.config, self.learner)
        loss = TRAINERS.get(self.config.trainer)(task, generator, opt)
        with torch.no_grad():
            images.copy_(self._teacher_at(self.extra).emit(ipc, self.emit_seed).images)
        return loss

    def _teacher_at(self, extra: dict[str, torch.Tensor]) -> TeachingGenerator:
        """The generator with the learned tensors ``extra`` copied in."""
        params = dict(self.teacher.named_parameters())
        with torch.no_grad():
            for name, value in extra.items():
                params[name].copy_(value)
        return self.teacher

    def make_set(
        self, data: DataSplits, images: torch.Tensor, labels: torch.Tensor, extra: dict
    ) -> SyntheticSet:
        teacher = self._teacher_at(extra)
        out = teacher.emit(self.ipc, self.emit_seed)
        out.zca = data.zca
        out.extras.update({SET_PREFIX + k: v for k, v in generator_state(teacher).items()})
        out.meta["generator"] = asdict(teacher.config)
        return out
