"""Coreset selection: a method that picks real training images; the base builds the set from indices."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import Method
from datadistill.synset import SyntheticSet


class SelectionMethod(Method):
    """Subclasses return, per class, the chosen indices into ``data.train`` (and optional scores)."""

    kind: ClassVar[str] = "selection"

    @abstractmethod
    def select(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Indices into ``data.train`` (class-ordered, ``ipc`` per class) and scores or ``None``."""

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        indices, scores = self.select(data, ipc, generator, progress)
        indices = indices.to(data.train.labels.device)
        extras = {"indices": indices.cpu()}
        if scores is not None:
            extras["scores"] = scores.detach().float().cpu()
        return SyntheticSet(
            images=data.train.images[indices].clone(),
            labels=data.train.labels[indices].clone(),
            info=data.info,
            method=type(self).__name__,
            extras=extras,
        )
