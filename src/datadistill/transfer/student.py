"""The student: trained on the target's Small part with the distillation loss, tested after every
epoch (accuracy and cross-entropy on the target's test split)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import TensorSet
from datadistill.evaluation.train import _decay_epoch
from datadistill.inspect.modelfile import TrainedModel, as_module
from datadistill.models import create_seeded_model, forward_in_chunks
from datadistill.settings import make_config
from datadistill.transfer.config import KDConfig
from datadistill.transfer.loss import kd_loss
from datadistill.transfer.mappings.base import Mapping

TeacherLike = nn.Module | TrainedModel | str | os.PathLike


@dataclass
class StudentRun:
    """One student: its seed, λ and T, and per epoch the test accuracy (%) and cross-entropy
    of its prediction ``softmax(logits)``."""

    seed: int
    lam: float
    temperature: float
    test_acc: list[float]
    test_ce: list[float]
    seconds: float
    model: nn.Module | None = field(default=None, repr=False)

    @property
    def final_acc(self) -> float:
        return self.test_acc[-1]

    @property
    def final_ce(self) -> float:
        return self.test_ce[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "lambda": self.lam,
            "temperature": self.temperature,
            "test_acc": [round(a, 3) for a in self.test_acc],
            "test_ce": [round(c, 5) for c in self.test_ce],
            "seconds": round(self.seconds, 3),
        }


def as_config(config: KDConfig | dict[str, Any] | None, **overrides: Any) -> KDConfig:
    """A ``KDConfig`` from one or a dict of settings (``overrides`` win; ``lambda`` is ``lam``)."""
    values = dict(vars(config)) if isinstance(config, KDConfig) else dict(config or {})
    if "lambda" in values:
        values["lam"] = values.pop("lambda")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return make_config(KDConfig, values)


@torch.no_grad()
def teacher_logits(
    teacher: TeacherLike,
    images: torch.Tensor,
    mapping: Mapping | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The teacher's logits on φ(images) (``mapping=None``: on the images themselves)."""
    model = as_module(teacher)
    mapped = images if mapping is None else mapping(images, generator)
    return forward_in_chunks(model, mapped)


def test_scores(model: nn.Module, test: TensorSet, temperature: float = 1.0) -> tuple[float, float]:
    """Accuracy (%) and mean cross-entropy of ``softmax(logits / T)`` on ``test``, eval mode."""
    was_training = model.training
    model.eval()
    logits = forward_in_chunks(model, test.images)
    model.train(was_training)
    acc = 100.0 * float((logits.argmax(1) == test.labels).float().mean())
    ce = float(F.cross_entropy(logits, test.labels))
    return acc, ce


def _fit_student(
    model: nn.Module,
    small: TensorSet,
    logits: torch.Tensor | None,
    cfg: KDConfig,
    seed: int,
    tick: Callable[[], None],
) -> None:
    """The library's schedule (``evaluation.train.fit``: SGD with momentum 0.9, weight decay
    5e-4, a fresh optimiser at lr ×0.1 from half time, one permutation per epoch from the seeded
    generator) with the distillation loss on each batch."""
    g = torch.Generator().manual_seed(seed)
    n = len(small)

    def sgd(lr: float) -> torch.optim.Optimizer:
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)

    opt = sgd(cfg.lr)
    model.train()
    for epoch in range(cfg.epochs):
        if epoch == _decay_epoch(cfg.epochs) and epoch > 0:
            opt = sgd(cfg.lr * 0.1)
        perm = torch.randperm(n, generator=g).to(small.images.device)
        for begin in range(0, n, cfg.batch_size):
            ix = perm[begin : begin + cfg.batch_size]
            t = None if logits is None else logits[ix]
            loss = kd_loss(model(small.images[ix]), small.labels[ix], t, cfg.lam, cfg.temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        tick()


def train_student(
    small: TensorSet,
    test: TensorSet,
    info: DatasetInfo,
    teacher: TeacherLike | None = None,
    mapping: Mapping | None = None,
    *,
    config: KDConfig | dict[str, Any] | None = None,
    seed: int = 0,
    logits: torch.Tensor | None = None,
    keep_model: bool = False,
    curves: bool = True,
) -> StudentRun:
    """Train a ``config.student`` network on ``small`` with ``λ·CE(y, g(x)) + (1−λ)·CE(f(φ(x)),
    g(x))`` (``loss.kd_loss``: T² on the soft term) and record its test accuracy and
    cross-entropy after every epoch.

    The teacher's soft labels come from ``logits`` when given (its logits on φ of ``small``'s
    images, computed once for many students), else from ``teacher`` and ``mapping`` here.
    ``config.lam == 1`` needs no teacher: plain cross-entropy training. The seed fixes the
    student's initialisation and batch order, so a student with and one without the teacher
    under the same seed differ only by the teacher's term. ``curves=False`` tests after the last
    epoch only (the lists then hold one value)."""
    cfg = as_config(config)
    if cfg.lam < 1.0 and logits is None:
        if teacher is None:
            raise ValueError(f"lambda={cfg.lam} needs a teacher (lambda=1 trains without one)")
        logits = teacher_logits(teacher, small.images, mapping)
    if cfg.lam < 1.0 and logits.shape != (len(small), info.num_classes):
        raise ValueError(
            f"teacher logits of shape {tuple(logits.shape)} for {len(small)} images of "
            f"{info.num_classes} classes"
        )
    model = create_seeded_model(cfg.student, info, seed, small.images.device)
    accs: list[float] = []
    ces: list[float] = []

    done = 0

    def record() -> None:
        nonlocal done
        done += 1
        if curves or done == cfg.epochs:
            acc, ce = test_scores(model, test)
            accs.append(acc)
            ces.append(ce)

    start = time.perf_counter()
    _fit_student(model, small, logits if cfg.lam < 1.0 else None, cfg, seed, record)
    seconds = time.perf_counter() - start
    model.eval()
    return StudentRun(
        seed, cfg.lam, cfg.temperature, accs, ces, seconds, model if keep_model else None
    )
