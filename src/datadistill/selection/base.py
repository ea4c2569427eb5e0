"""Coreset selection: a method that picks real training images; the base builds the set from indices."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import Method
from datadistill.selection.embedding import EmbedderConfig, embed, embedding_model
from datadistill.settings import at_least, one_of
from datadistill.synset import SyntheticSet


@dataclass
class EmbeddingConfig:
    """Where distances are measured. ``embedding="convnet"``: penultimate features of a ConvNet
    trained on the training split for ``embed_epochs`` epochs (cached), as the DC paper's coreset
    baselines do; ``"pixels"``: raw normalised pixels (no training, the DD paper's k-means)."""

    embedding: str = "convnet"
    embed_model: str = "convnet"
    embed_epochs: int = 2
    embed_seed: int = 0

    def __post_init__(self) -> None:
        one_of(self, "embedding", ("convnet", "pixels"))
        at_least(self, 1, "embed_epochs")

    def embedder(self) -> EmbedderConfig:
        return EmbedderConfig(
            model=self.embed_model, epochs=self.embed_epochs, seed=self.embed_seed
        )


def class_features(
    data: DataSplits, config: EmbeddingConfig, progress: bool = True
) -> list[torch.Tensor]:
    """Per class, the features of its training images in the embedding space ``config`` names
    (``progress``: a bar while an embedder is trained for it)."""
    model = embedding_model(data, config.embedding, config.embedder(), progress)
    return [
        embed(model, data.train.images[data.train.indices_of(c)])
        for c in range(data.info.num_classes)
    ]


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
        return self.run_from_indices(data, indices, scores)

    def run_from_indices(
        self, data: DataSplits, indices: torch.Tensor, scores: torch.Tensor | None = None
    ) -> SyntheticSet:
        """The set of the training images at ``indices``, recording them (and any scores)."""
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
