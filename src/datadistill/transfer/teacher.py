"""Teachers and trained mappings, cached like the coreset embedder: under the user cache
directory, keyed by a hash of everything that determines them (settings, seed, the exact content
of the data they learn from), so a benchmark trains each once and later runs load it.

A teacher is an ordinary model file (``inspect.save_model``: safetensors + JSON), so a user's own
``datadistill train`` file can stand in for it (``load_teacher``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch import nn

from datadistill.datasets.base import default_root
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import TensorSet
from datadistill.evaluation.train import accuracy, fit_split
from datadistill.inspect.modelfile import ModelFileError, TrainedModel, load_model, save_model
from datadistill.models import create_seeded_model
from datadistill.selection.embedding import fingerprint
from datadistill.synset import git_commit
from datadistill.transfer.config import KDConfig
from datadistill.transfer.mappings.base import (
    WEIGHTS,
    Mapping,
    load_mapping,
    renormalise,
    save_mapping,
)


def cache_dir() -> Path:
    return default_root() / "transfer"


def fitted_mapping(
    mapping: Mapping,
    source: TensorSet,
    target: TensorSet,
    cache: bool = True,
    progress: bool = True,
) -> Mapping:
    """``mapping`` fitted to the source's and target's Big parts, its weights loaded from the
    cache when the same settings, seed and data trained them before (fixed mappings: as is)."""
    if not mapping.trainable:
        return mapping
    key = mapping.key(fingerprint(source), fingerprint(target))
    folder = cache_dir() / "mappings" / f"{mapping.family or mapping.name}-{key}"
    if cache and (folder / WEIGHTS).is_file():
        try:
            cached = load_mapping(folder)
            mapping.load_state_dict(cached.state_dict())
            mapping.history = getattr(cached, "history", [])
            return mapping
        except (ValueError, OSError):  # a damaged cache entry is retrained, never trusted
            pass
    mapping.fit(source, target, progress=progress)
    if cache:
        save_mapping(mapping, folder)
    return mapping


def _teacher_key(train: TensorSet, info: DatasetInfo, config: KDConfig) -> str:
    ident = {
        "info": info.to_dict(),
        "content": fingerprint(train),
        "model": config.teacher,
        "epochs": config.teacher_epochs,
        "lr": config.teacher_lr,
        "batch_size": config.teacher_batch_size,
        "seed": config.teacher_seed,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def train_teacher(
    train: TensorSet,
    test: TensorSet,
    info: DatasetInfo,
    config: KDConfig | None = None,
    *,
    cache: bool = True,
    progress: bool = True,
) -> TrainedModel:
    """A ``config.teacher`` network trained on ``train`` (the teacher's domain, Big part) with the
    library's loop and tested on ``test``; loaded from the cache when it is there. Its file's
    ``meta`` says where it is cached (``cached_at``)."""
    config = config or KDConfig()
    folder = cache_dir() / "teachers" / f"{info.name}-{config.teacher}-"
    folder = Path(f"{folder}{_teacher_key(train, info, config)}")
    if cache and (folder / "model.safetensors").is_file():
        try:
            return load_model(folder, device=train.images.device)
        except ModelFileError:  # retrained, never trusted
            pass
    device = train.images.device
    model = create_seeded_model(config.teacher, info, config.teacher_seed, device)
    desc = f"training the {config.teacher} teacher on {info.name}" if progress else None
    fit_split(
        model,
        train,
        epochs=config.teacher_epochs,
        lr=config.teacher_lr,
        batch_size=config.teacher_batch_size,
        generator=torch.Generator().manual_seed(config.teacher_seed),
        progress=desc,
    )
    meta = {
        "trained_on": f"{info.name} Big part",
        "train_images": len(train),
        "epochs": config.teacher_epochs,
        "lr": config.teacher_lr,
        "batch_size": config.teacher_batch_size,
        "seed": config.teacher_seed,
        "test_accuracy": round(accuracy(model, test), 3),
        "torch": torch.__version__,
        "commit": git_commit(),
        "cached_at": str(folder) if cache else None,
    }
    trained = TrainedModel(model.eval(), config.teacher, info, meta)
    if cache:
        save_model(trained, folder)
    return trained


class Renormalised(nn.Module):
    """A teacher that expects another normalisation than its domain's images carry."""

    def __init__(self, model: nn.Module, images: DatasetInfo, expects: DatasetInfo) -> None:
        super().__init__()
        self.model, self.images, self.expects = model, images, expects

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(renormalise(x, self.images, self.expects))


def load_teacher(
    path: str | os.PathLike[str], domain: DatasetInfo, device: str | torch.device = "cpu"
) -> TrainedModel:
    """A user's model file (``datadistill train``) as the teacher of ``domain``: its image shape
    and class count must be the domain's; a different normalisation is converted."""
    trained = load_model(path, device=device)
    if trained.info.shape != domain.shape:
        raise ValueError(
            f"{path}: the teacher takes {trained.info.shape} images but its domain "
            f"{domain.name} has {domain.shape}"
        )
    if trained.info.num_classes != domain.num_classes:
        raise ValueError(
            f"{path}: the teacher has {trained.info.num_classes} classes but its domain "
            f"{domain.name} has {domain.num_classes}"
        )
    if (trained.info.mean, trained.info.std) != (domain.mean, domain.std):
        trained.model = Renormalised(trained.model, domain, trained.info).eval()
    trained.meta = {**trained.meta, "file": str(Path(path).resolve())}
    return trained
