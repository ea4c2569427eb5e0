"""Datasets held as tensors in memory, with a per-class index for fast class-wise sampling."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from datadistill.datasets.info import DatasetInfo

if TYPE_CHECKING:
    from datadistill.datasets.zca import ZCA


class TensorSet:
    """Normalised images ``(N, C, H, W)`` and integer labels ``(N,)`` with a per-class index.

    Class-wise sampling is the hot path of every matching method, so ``indices_of(c)`` is a
    precomputed tensor and ``sample(c, n)`` is one ``randperm``/``index_select``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
        if images.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"labels must be (N,) with N={images.shape[0]}, got shape {tuple(labels.shape)}"
            )
        self.images = images
        self.labels = labels.long()
        self.num_classes = num_classes
        order = torch.argsort(self.labels, stable=True)
        counts = torch.bincount(self.labels, minlength=num_classes).tolist()
        self._by_class = list(torch.split(order, counts))

    def __len__(self) -> int:
        return self.labels.shape[0]

    def indices_of(self, c: int) -> torch.Tensor:
        """Indices (into this set) of the examples of class ``c``, in ascending order."""
        return self._by_class[c]

    def class_counts(self) -> list[int]:
        return [len(ix) for ix in self._by_class]

    def sample(self, c: int, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` random images of class ``c`` (without replacement)."""
        ix = self._by_class[c]
        perm = torch.randperm(len(ix), generator=generator)[:n]
        return self.images[ix[perm.to(ix.device)]]

    def subset(self, indices: torch.Tensor) -> TensorSet:
        return TensorSet(self.images[indices], self.labels[indices], self.num_classes)

    def to(self, device: torch.device | str) -> TensorSet:
        out = TensorSet.__new__(TensorSet)
        out.images = self.images.to(device)
        out.labels = self.labels.to(device)
        out.num_classes = self.num_classes
        out._by_class = [ix.to(device) for ix in self._by_class]
        return out


@dataclass
class DataSplits:
    """A loaded dataset: train (minus validation), a fixed seeded validation split, and test.

    The validation split is used for every choice a method makes; the test split only for
    reported numbers. ``zca`` holds the whitening transform when one was applied; ``root`` is the
    resolved data root the set was loaded from (``None`` when built in memory), for a distilled
    set's metadata, so that its evaluation can find the data again.
    """

    info: DatasetInfo
    train: TensorSet
    val: TensorSet
    test: TensorSet
    zca: ZCA | None = None
    val_seed: int = 0
    root: Path | None = None

    def to(self, device: torch.device | str) -> DataSplits:
        """The same splits on ``device``; every other field is kept."""
        return dataclasses.replace(
            self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device)
        )
