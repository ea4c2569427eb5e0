"""The one interface every set-making method implements, its registry, and ``distill``.

A method (coreset selection or distillation) is a class with a dataclass ``Config`` and a
``run(data, ipc, generator)`` that returns a ``SyntheticSet``. Adding a method is one new file
with ``@METHODS.register("name")`` plus one import line in its package's ``__init__``.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Any, ClassVar

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.registry import Registry
from datadistill.settings import make_config
from datadistill.synset import SyntheticSet, git_commit


@dataclasses.dataclass
class NoConfig:
    """For methods without settings."""


class Method(ABC):
    """Base class: ``Config`` holds the paper's defaults; ``run`` makes the set."""

    Config: ClassVar[type] = NoConfig
    kind: ClassVar[str] = "distillation"
    summary: ClassVar[str] = ""
    stochastic: ClassVar[bool] = True  # whether the seed changes the set

    def __init__(
        self, config: Any = None, checkpoint: str | os.PathLike[str] | None = None
    ) -> None:
        self.config = config if config is not None else self.Config()
        self.checkpoint = checkpoint  # where iterative methods save and resume their state

    @abstractmethod
    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        """Make a set of ``ipc`` images per class from ``data.train``."""


# Methods register themselves in these packages, which import this module: loaded on first lookup.
METHODS: Registry[type[Method]] = Registry(
    "method", ("datadistill.distillation", "datadistill.selection")
)


def list_methods(pattern: str = "*") -> list[str]:
    return METHODS.names(pattern)


def check_ipc(data: DataSplits, ipc: int) -> None:
    if ipc <= 0:
        raise ValueError(f"ipc must be a positive number of images per class, got {ipc}")
    smallest = min(data.train.class_counts())
    if ipc > smallest:
        raise ValueError(
            f"ipc={ipc} is larger than the smallest class of {data.info.name} ({smallest} images)"
        )


def distill(
    data: DataSplits,
    method: str,
    ipc: int,
    config: dict[str, Any] | Any = None,
    *,
    seed: int = 0,
    progress: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
) -> SyntheticSet:
    """Run ``method`` on ``data`` and return its set, stamped with config, seed and provenance.

    ``checkpoint``: a file where iterative methods save their state every ``checkpoint_every``
    iterations and from which they resume when it exists (a run of other settings is refused)."""
    from datadistill.datasets.text import method_defaults

    cls = METHODS.get(method)
    if dataclasses.is_dataclass(config):
        cfg = config
    else:  # the dataset's own defaults (a text model for text) under the given settings
        if config is None or isinstance(config, dict):
            config = {**method_defaults(data.info, cls.Config), **(config or {})}
        cfg = make_config(cls.Config, config)
    check_ipc(data, ipc)
    generator = torch.Generator().manual_seed(seed)
    commit = git_commit()  # before the run: the code that made the set
    start = time.perf_counter()
    synset = cls(cfg, checkpoint).run(data, ipc, generator, progress=progress)
    synset.method, synset.seed, synset.ipc = method, seed, ipc
    synset.config = dataclasses.asdict(cfg)
    synset.zca = data.zca
    synset.meta.update(
        {
            "datadistill": _version(),
            "torch": torch.__version__,
            "commit": commit,
            "seconds": round(time.perf_counter() - start, 3),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": platform.machine(),
            "device": str(data.train.images.device),
            "val_seed": data.val_seed,
            "data_root": None if data.root is None else str(data.root),  # found again by evaluate
        }
    )
    return synset


def _version() -> str:
    from datadistill import __version__

    return __version__
